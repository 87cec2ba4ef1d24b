// The victim picker's distributions and orders, not only its examples (swapping.test.ts): random
// is uniform over exactly the swappable pages whatever the p2m's history, clock and LRU give the
// orders their definitions give, computed here the slow way (every page listed and sorted).
import { strict as assert } from 'node:assert';
import { MachineMemory } from '../../../../src/engine/machine/machineMemory';
import { P2m } from '../../../../src/engine/vmm/p2m';
import { VictimSelector, swappable } from '../../../../src/engine/memory/overcommit/victims';
import { seededRandom } from '../../../../src/engine/memory/overcommit/seededRandom';

const PAGE = 4096;

/** A p2m with a mix of states: private pages (some guest page tables, one pinned), swapped, ballooned, shared, unbacked. */
function mixed(seed: number): P2m {
  const rnd = seededRandom(seed);
  const mem = new MachineMemory(1024 * PAGE);
  const p2m = new P2m(mem, 1, 256 * PAGE);
  for (let p = 0; p < 256; p++) if (rnd() < 0.6) p2m.back(p);
  for (let p = 0; p < 256; p++) {
    const r = rnd();
    if (!p2m.isPrivate(p)) continue;
    if (r < 0.1) p2m.swapOut(p);
    else if (r < 0.15) p2m.balloon(p);
    else if (r < 0.2) p2m.shareInPlace(p);
    else if (r < 0.25) mem.frames.setUse(p2m.lookup(p), 'guest-pt');
  }
  p2m.pin(p2m.pagesInState('private')[3]);
  return p2m;
}

function eligible(p2m: P2m): number[] {
  const out: number[] = [];
  for (let p = 0; p < p2m.pages; p++) if (swappable(p2m, p)) out.push(p);
  return out;
}

describe('victims: random, clock and LRU by their definitions', () => {
  it('random: every swappable page, and only those, equally often (24,000 draws of one)', () => {
    const p2m = mixed(7);
    const ok = eligible(p2m);
    assert.ok(ok.length > 60 && ok.length < 150, `${ok.length} swappable`);
    const counts = new Map<number, number>();
    const draws = 24_000;
    const sel = new VictimSelector('random', 99);
    for (let i = 0; i < draws; i++) {
      const [p] = sel.choose(p2m, 1);
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()].sort((a, b) => a - b), ok);
    // Uniform: expected draws/|ok| each; a chi-square over |ok|-1 degrees of freedom far below
    // its 99.9th percentile (~|ok| + 3.1·sqrt(2|ok|)).
    const e = draws / ok.length;
    let chi = 0;
    for (const c of counts.values()) chi += (c - e) ** 2 / e;
    assert.ok(chi < ok.length + 3.1 * Math.sqrt(2 * ok.length), `chi-square ${chi.toFixed(1)} over ${ok.length} pages`);
  });

  it('random: a cluster is distinct pages; asking for more than there are gives them all', () => {
    const p2m = mixed(8);
    const ok = eligible(p2m);
    for (const n of [1, 5, 40, ok.length, ok.length + 10]) {
      const got = new VictimSelector('random', n).choose(p2m, n);
      assert.equal(got.length, Math.min(n, ok.length));
      assert.equal(new Set(got).size, got.length);
      assert.ok(got.every((p) => swappable(p2m, p)));
    }
  });

  it('random: the same seed chooses the same pages of the same p2m, before and after other choices', () => {
    const p2m = mixed(9);
    const a = new VictimSelector('random', 5).choose(p2m, 12);
    new VictimSelector('random', 6).choose(p2m, 30);
    assert.deepEqual(new VictimSelector('random', 5).choose(p2m, 12), a);
  });

  it('random: the position of a page in the private set does not bias it (pages added late, after deletes)', () => {
    const mem = new MachineMemory(256 * PAGE);
    const p2m = new P2m(mem, 1, 64 * PAGE);
    for (let p = 0; p < 32; p++) p2m.back(p);
    p2m.privatePages();
    for (let p = 0; p < 32; p += 2) p2m.swapOut(p);
    for (let p = 32; p < 48; p++) p2m.back(p);
    const ok = eligible(p2m);
    const counts = new Map<number, number>();
    const sel = new VictimSelector('random', 3);
    for (let i = 0; i < 8_000; i++) for (const p of sel.choose(p2m, 3)) counts.set(p, (counts.get(p) ?? 0) + 1);
    const e = (8_000 * 3) / ok.length;
    for (const p of ok) assert.ok(Math.abs((counts.get(p) ?? 0) - e) < 0.12 * e, `page ${p}: ${counts.get(p)} vs ${e.toFixed(0)}`);
  });

  for (const seed of [21, 22, 23]) {
    it(`lru (seed ${seed}): the n oldest mappings, ties by ppn, as sorting every swappable page gives`, () => {
      const rnd = seededRandom(seed);
      const p2m = mixed(seed);
      const sel = new VictimSelector('lru');
      sel.choose(p2m, 1);
      for (let i = 0; i < 300; i++) {
        const p = Math.floor(rnd() * p2m.pages);
        if (p2m.isPrivate(p)) p2m.back(p, 'read');
      }
      const all = eligible(p2m).sort((a, b) => p2m.lastMapped(a) - p2m.lastMapped(b) || a - b);
      for (const n of [1, 7, 30, all.length + 5]) assert.deepEqual(sel.choose(p2m, n), all.slice(0, n));
    });
  }

  it('clock: two sweeps from the hand in ppn order, a referenced page passed over once', () => {
    const p2m = mixed(31);
    const sel = new VictimSelector('clock');
    const ok = eligible(p2m);
    // Everything was just mapped: the first sweep clears every bit, the second takes them in order.
    assert.deepEqual(sel.choose(p2m, 10), ok.slice(0, 10));
    p2m.back(ok[11], 'read');
    assert.deepEqual(sel.choose(p2m, 3), [ok[10], ok[12], ok[13]]);
  });
});
