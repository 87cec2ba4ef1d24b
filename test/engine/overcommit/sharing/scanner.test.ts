// The scanner against a fake hypervisor: its order visits every page once per pass; one full
// scan offers every eligible page and skips the rest; the per-VM rate and the system-wide cap
// hold over simulated time; share before swap; copy-on-write breaks keep the table's counts.
import { strict as assert } from 'node:assert';
import { PAGE_SIZE } from '../../../../src/engine/memory/frame';
import { ScanOrder } from '../../../../src/engine/memory/overcommit/sharing/scanOrder';
import { seededRandom } from '../../../../src/engine/memory/overcommit/seededRandom';
import { SharingScanner } from '../../../../src/engine/memory/overcommit/sharing/scanner';
import { FakeHost, pageFrom } from './fakeHost';
import type { FakeState } from './fakeHost';

/** VMs whose pages are a seeded mix of states and of unique, duplicate and zero contents. */
function mixedWorld(vms: number, pages: number, seed: number): { host: FakeHost; eligible: Set<string> } {
  const host = new FakeHost();
  const rnd = seededRandom(seed);
  const eligible = new Set<string>();
  const states: FakeState[] = ['unbacked', 'private', 'private', 'private', 'ballooned', 'swapped', 'guest-pt'];
  for (let v = 1; v <= vms; v++) {
    host.addVm(v, pages);
    for (let p = 0; p < pages; p++) {
      const state = states[Math.floor(rnd() * states.length)];
      if (state === 'unbacked') continue;
      const kind = rnd();
      host.write(v, p, kind < 0.3 ? new Uint8Array(PAGE_SIZE) : kind < 0.6 ? pageFrom(Math.floor(rnd() * 8)) : pageFrom(1000 + v * pages + p));
      if (state !== 'private') host.setState(v, p, state);
      else eligible.add(`${v}:${p}`);
    }
  }
  return { host, eligible };
}

describe('sharing: scan order', () => {
  for (const n of [1, 2, 3, 5, 64, 100, 1000, 4097]) {
    it(`visits each of ${n} pages exactly once per pass`, () => {
      const o = new ScanOrder(n, seededRandom(n));
      for (let pass = 0; pass < 3; pass++) {
        const seen = new Uint8Array(n);
        for (let i = 0; i < n; i++) seen[o.next()]++;
        assert.ok(seen.every((c) => c === 1), `pass ${pass}`);
        assert.equal(o.passes, pass + 1);
      }
    });
  }

  for (const n of [64, 100, 4096, 5000]) {
    it(`takes ${n} pages block by block: every 64-page block's pages in a row, shuffled, the blocks in a random order`, () => {
      const o = new ScanOrder(n, seededRandom(n + 1));
      const draws = Array.from({ length: n }, () => o.next());
      const blocks: number[] = [];
      for (const p of draws) if (blocks[blocks.length - 1] !== p >> 6) blocks.push(p >> 6);
      assert.equal(blocks.length, Math.ceil(n / 64), 'each block visited in one run');
      assert.equal(new Set(blocks).size, blocks.length);
      if (blocks.length > 8) assert.notDeepEqual(blocks, [...blocks].sort((a, b) => a - b), 'blocks in a random order');
      // Within a full block consecutive draws are never neighbours (a partial last block skips pages, so may).
      const full = n - (n % 64);
      for (let i = 1; i < draws.length; i++) {
        if (draws[i] >> 6 === draws[i - 1] >> 6 && draws[i] < full) assert.notEqual(draws[i], draws[i - 1] + 1, 'never the next page');
      }
    });
  }

  it('nextWhere draws as next() does and returns the first page passing the test, -1 at a pass end or when out of draws', () => {
    for (const n of [1, 7, 64, 200, 1000]) {
      const a = new ScanOrder(n, seededRandom(5));
      const b = new ScanOrder(n, seededRandom(5));
      const keep = (p: number): boolean => p % 5 === 2;
      for (let pass = 0; pass < 3; pass++) {
        const want: number[] = [];
        for (let i = 0; i < n; i++) {
          const p = a.next();
          if (keep(p)) want.push(p);
        }
        const got: number[] = [];
        for (;;) {
          const p = b.nextWhere(keep, 1e9);
          if (p < 0) break;
          got.push(p);
          if (b.passes > pass) break; // the pass's last page passed the test
        }
        assert.deepEqual(got, want, `n ${n} pass ${pass}`);
        assert.equal(b.passes, pass + 1);
        assert.equal(b.drawn, a.drawn);
      }
      const c = new ScanOrder(n, seededRandom(5));
      assert.equal(c.nextWhere(() => false, 3), -1);
      assert.equal(c.drawn, Math.min(3, n));
    }
  });

  it('passes come in different orders; the same seed repeats them', () => {
    const a = new ScanOrder(1000, seededRandom(1));
    const b = new ScanOrder(1000, seededRandom(1));
    const p1 = Array.from({ length: 1000 }, () => a.next());
    const p2 = Array.from({ length: 1000 }, () => a.next());
    assert.notDeepEqual(p1, p2);
    assert.deepEqual(Array.from({ length: 1000 }, () => b.next()), p1);
    // Not the identity or a stride: far from sorted.
    let ascending = 0;
    for (let i = 1; i < 1000; i++) if (p1[i] === p1[i - 1] + 1) ascending++;
    assert.ok(ascending < 50, `${ascending} consecutive steps`);
  });
});

describe('sharing: scanner', () => {
  for (const seed of [1, 2, 3]) {
    it(`one full scan offers every eligible page and no other (seed ${seed})`, () => {
      const { host, eligible } = mixedWorld(3, 300, seed);
      const sc = new SharingScanner(host, { seed });
      const hashed = sc.fullScan();
      assert.equal(hashed, eligible.size);
      const st = sc.stats();
      assert.equal(st.fullScans, 1);
      assert.equal(st.pagesScanned, eligible.size);
      // Every eligible page is now shared or a hint (or lost a false match: none with a 64-bit hash).
      for (const k of eligible) {
        const [v, p] = k.split(':').map(Number);
        assert.ok(host.stateOf(v, p) === 'shared' || sc.table.isHinted(v, p), `page ${k} was not offered`);
      }
      assert.equal(st.falseMatches, 0);
      // The duplicates and zeros shared: at most 8 + 1 distinct shared contents.
      assert.ok(st.pagesShared <= 9 && st.pagesShared > 0);
      assert.ok(st.zeroPages > 0);
      assert.equal(st.savedPages, st.pagesSharing);
      // Nothing ineligible changed state.
      assert.deepEqual(sc.audit(), []);
    });
  }

  it('a second full scan merges what the first left as hints only when contents still match', () => {
    const host = new FakeHost();
    host.addVm(1, 16);
    for (let p = 0; p < 16; p++) host.write(1, p, pageFrom(p)); // all unique
    const sc = new SharingScanner(host, { seed: 9 });
    sc.fullScan();
    assert.equal(sc.stats().pagesUnshared, 16);
    // Now page 0 gets page 1's contents: the rescan of one of them finds the other's hint.
    host.write(1, 0, pageFrom(1));
    sc.fullScan();
    const st = sc.stats();
    assert.equal(host.stateOf(1, 0), 'shared');
    assert.equal(host.stateOf(1, 1), 'shared');
    assert.equal(st.pagesShared, 1);
    assert.equal(st.pagesSharing, 1);
    assert.equal(st.fullScans, 2);
  });

  const rateCases = [
    { vms: 1, perVm: 50, total: 200, seconds: 10, step: 0.01 },
    { vms: 2, perVm: 50, total: 200, seconds: 10, step: 0.1 },
    { vms: 8, perVm: 50, total: 200, seconds: 10, step: 0.05 },
    { vms: 3, perVm: 1000, total: 1500, seconds: 2, step: 0.5 },
  ];
  for (const c of rateCases) {
    it(`rates hold: ${c.vms} VMs, ${c.perVm}/s per VM, ${c.total}/s in all, ${c.seconds} s in steps of ${c.step} s`, () => {
      const host = new FakeHost();
      const pages = c.perVm * c.seconds + 10;
      for (let v = 1; v <= c.vms; v++) {
        host.addVm(v, pages);
        for (let p = 0; p < pages; p++) host.write(v, p, pageFrom(v * pages + p));
      }
      const sc = new SharingScanner(host, { scanPagesPerSecPerVm: c.perVm, scanPagesPerSecTotal: c.total, seed: 4 });
      const steps = Math.round(c.seconds / c.step);
      let hashed = 0;
      for (let i = 0; i < steps; i++) hashed += sc.advance(c.step);
      const cap = Math.min(c.perVm * c.vms, c.total) * c.seconds;
      assert.ok(hashed <= cap + 1, `${hashed} pages hashed, cap ${cap}`);
      assert.ok(hashed >= cap - c.vms - 1, `${hashed} pages hashed, expected about ${cap}`);
      const fair = cap / c.vms;
      for (let v = 1; v <= c.vms; v++) {
        const n = sc.scannedOf(v);
        assert.ok(n <= c.perVm * c.seconds + 1, `VM ${v}: ${n} > per-VM rate`);
        assert.ok(Math.abs(n - fair) <= 2, `VM ${v}: ${n}, fair share ${fair}`);
      }
      assert.equal(sc.stats().pagesScanned, hashed);
    });
  }

  it('a VM with nothing to share does not pass its rate to the others; a long pause is not paid back at once', () => {
    const host = new FakeHost();
    host.addVm(1, 1000);
    host.addVm(2, 1000); // nothing eligible
    for (let p = 0; p < 1000; p++) host.write(1, p, pageFrom(p));
    const sc = new SharingScanner(host, { seed: 5 });
    for (let i = 0; i < 10; i++) sc.advance(1);
    assert.equal(sc.scannedOf(1), 500);
    assert.equal(sc.scannedOf(2), 0);
    assert.equal(sc.advance(360), 50 * 360, 'a call scans for its own elapsed time only');
    assert.ok(sc.advance(0.01) <= 1, 'no credit piled up beyond a page');
  });

  it('scan(pages) spreads a budget evenly and keeps each VM to its share', () => {
    const host = new FakeHost();
    for (let v = 1; v <= 4; v++) {
      host.addVm(v, 500);
      if (v !== 4) for (let p = 0; p < 500; p++) host.write(v, p, pageFrom(v * 1000 + p));
    }
    const sc = new SharingScanner(host, { seed: 6 });
    assert.equal(sc.scan(40), 30, 'VM 4 has nothing: its 10 are not given away');
    for (let v = 1; v <= 3; v++) assert.equal(sc.scannedOf(v), 10);
    for (let i = 0; i < 7; i++) sc.scan(3);
    for (let v = 1; v <= 3; v++) assert.equal(sc.scannedOf(v), 17, 'the rotating start is fair');
  });

  it('disabled: nothing is scanned or offered', () => {
    const host = new FakeHost();
    host.addVm(1, 10);
    host.write(1, 0, pageFrom(1));
    const sc = new SharingScanner(host, { enabled: false });
    assert.equal(sc.advance(10), 0);
    assert.equal(sc.scan(10), 0);
    assert.equal(sc.offer(1, 0), false);
    assert.equal(sc.table.hintFrames, 0);
  });

  it('share before swap: a victim with a twin is shared instead of written out; a unique one becomes a hint', () => {
    const host = new FakeHost();
    host.addVm(1, 8);
    host.addVm(2, 8);
    host.write(1, 3, pageFrom(42));
    host.write(2, 5, pageFrom(42));
    host.write(2, 6, pageFrom(43));
    const sc = new SharingScanner(host, { seed: 7 });
    assert.equal(sc.offer(1, 3), false, 'unique so far');
    assert.ok(sc.table.isHinted(1, 3));
    assert.equal(sc.offer(2, 5), true);
    assert.equal(host.stateOf(2, 5), 'shared');
    assert.equal(sc.offer(2, 6), false);
    assert.equal(sc.offer(2, 7), false, 'unbacked: nothing to offer');
    const st = sc.stats();
    assert.equal(st.offered, 3);
    assert.equal(st.offeredShared, 1);
    assert.equal(st.pagesScanned, 0, 'offers are not scans');
  });

  it('copy-on-write breaks (the cow-break event) keep the counts; the last one drops the frame', () => {
    const host = new FakeHost();
    host.addVm(1, 4);
    host.addVm(2, 4);
    for (let p = 0; p < 3; p++) host.write(1, p, pageFrom(77));
    host.write(2, 0, pageFrom(77));
    const sc = new SharingScanner(host, { seed: 8 });
    sc.fullScan();
    const mpn = host.mpnOf(2, 0);
    assert.equal(sc.table.refsOf(mpn), 4);
    host.poke(2, 0, 0, 1);
    assert.equal(sc.table.refsOf(mpn), 3);
    assert.deepEqual(host.read(1, 0), pageFrom(77), 'the other VM still sees the old contents');
    for (let p = 0; p < 3; p++) host.poke(1, p, 1, 2);
    const st = sc.stats();
    assert.equal(st.cowBreaks, 4);
    assert.equal(st.pagesShared, 0);
    assert.equal(sc.table.refsOf(mpn), 0);
    assert.deepEqual(sc.audit(), []);
  });

  it('the same seed gives the same run', () => {
    const run = (): string => {
      const { host } = mixedWorld(2, 200, 11);
      const sc = new SharingScanner(host, { seed: 3 });
      for (let i = 0; i < 20; i++) sc.advance(0.5);
      return JSON.stringify(sc.stats()) + JSON.stringify(sc.table.frames());
    };
    assert.equal(run(), run());
  });
});
