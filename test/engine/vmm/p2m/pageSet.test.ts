// The indexed page set behind the swapper's victim choice, and the p2m keeping its set of
// private pages exact through every state change (generated operation sequences checked
// against a model and against the p2m's own states).
import { strict as assert } from 'node:assert';
import { PageSet } from '../../../../src/engine/vmm/pageSet';
import { MachineMemory } from '../../../../src/engine/machine/machineMemory';
import { P2m } from '../../../../src/engine/vmm/p2m';
import { seededRandom } from '../../../../src/engine/memory/overcommit/seededRandom';

const PAGE = 4096;

function sorted(a: Iterable<number>): number[] {
  return [...a].sort((x, y) => x - y);
}

describe('PageSet', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}: 3,000 random adds and deletes agree with a Set, positions stay consistent`, () => {
      const rnd = seededRandom(seed);
      const pages = 50 + seed * 37;
      const set = new PageSet(pages, 1);
      const model = new Set<number>();
      for (let i = 0; i < 3000; i++) {
        const p = Math.floor(rnd() * pages);
        if (rnd() < 0.55) {
          set.add(p);
          model.add(p);
        } else {
          set.delete(p);
          model.delete(p);
        }
        assert.equal(set.size, model.size);
        assert.equal(set.has(p), model.has(p));
      }
      assert.deepEqual(sorted(set.toArray()), sorted(model));
      for (let i = 0; i < set.size; i++) assert.ok(model.has(set.at(i)));
      for (let p = 0; p < pages; p++) assert.equal(set.has(p), model.has(p));
      assert.equal(set.has(-1), false);
      assert.equal(set.has(pages), false);
    });
  }

  it('grows past its initial capacity up to every page', () => {
    const set = new PageSet(1000, 1);
    for (let p = 999; p >= 0; p--) set.add(p);
    assert.equal(set.size, 1000);
    assert.deepEqual(sorted(set.toArray()), Array.from({ length: 1000 }, (_, i) => i));
    set.add(5);
    assert.equal(set.size, 1000, 'adding a member again changes nothing');
  });
});

describe('P2m.privatePages: exact through every state change', () => {
  for (const seed of [11, 12, 13]) {
    it(`seed ${seed}: back (read/write), swap out/in, balloon, deflate, share in place, COW break, release`, () => {
      const rnd = seededRandom(seed);
      const mem = new MachineMemory(512 * PAGE);
      const p2m = new P2m(mem, 1, 128 * PAGE);
      for (let i = 0; i < 20; i++) p2m.back(i);
      const set = p2m.privatePages();
      const check = (what: string): void => assert.deepEqual(sorted(set.toArray()), p2m.pagesInState('private'), what);
      check('built from the pages private when first asked for');
      for (let i = 0; i < 1500; i++) {
        const p = Math.floor(rnd() * p2m.pages);
        const op = Math.floor(rnd() * 7);
        let what: string;
        switch (op) {
          case 0: what = 'back write'; p2m.back(p, 'write'); break;
          case 1: what = 'back read'; p2m.back(p, 'read'); break;
          case 2: what = 'swap out'; p2m.swapOut(p); break;
          case 3: what = 'balloon'; p2m.balloon(p); break;
          case 4: what = 'deflate'; p2m.deflate(p); break;
          case 5: what = 'share in place'; p2m.shareInPlace(p); break;
          default: what = 'resident (swap in for a read)'; p2m.resident(p, false); break;
        }
        check(`${what} of page ${p}`);
        assert.equal(set.size, p2m.pagesIn('private'));
      }
      p2m.releaseAll();
      check('release all');
      assert.equal(set.size, 0);
    });
  }
});
