// The page hash: equal pages hash equal wherever their bytes live; generated families of
// near-identical pages (one bit, one word, a counter at every offset) never collide; one flipped
// bit moves about half of the 64 output bits.
import { strict as assert } from 'node:assert';
import { PAGE_SIZE } from '../../../../src/engine/memory/frame';
import { ZERO_PAGE_HASH, ZERO_PAGE_WORDS, hashEquals, hashHex, hashPage, hashWords, isZeroPage, isZeroWords, pageWords, samePage, sameWords } from '../../../../src/engine/memory/overcommit/sharing/pageHash';
import type { Hash64 } from '../../../../src/engine/memory/overcommit/sharing/pageHash';
import { pageFrom } from './fakeHost';

const h = (p: Uint8Array): Hash64 => hashPage(p, { hi: 0, lo: 0 });
const key = (x: Hash64): string => hashHex(x);

function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

describe('sharing: page hash', () => {
  it('equal contents hash equal: copies, offsets into a larger buffer, unaligned views', () => {
    for (const seed of [0, 1, 2, 77, 12345]) {
      const p = pageFrom(seed);
      const big = new Uint8Array(PAGE_SIZE * 3);
      big.set(p, PAGE_SIZE);
      const unaligned = new Uint8Array(PAGE_SIZE + 1);
      unaligned.set(p, 1);
      const want = h(p);
      assert.ok(hashEquals(h(p.slice()), want));
      assert.ok(hashEquals(h(big.subarray(PAGE_SIZE, 2 * PAGE_SIZE)), want));
      assert.ok(hashEquals(h(unaligned.subarray(1)), want), 'an unaligned view hashes like the page');
    }
  });

  it('the zero page hash is the hash of zeros, and isZeroPage agrees with the bytes', () => {
    assert.ok(hashEquals(h(new Uint8Array(PAGE_SIZE)), ZERO_PAGE_HASH));
    assert.ok(isZeroPage(new Uint8Array(PAGE_SIZE)));
    for (const at of [0, 1, 2047, 4095]) {
      const p = new Uint8Array(PAGE_SIZE);
      p[at] = 1;
      assert.ok(!isZeroPage(p), `byte ${at}`);
      assert.ok(!hashEquals(h(p), ZERO_PAGE_HASH), `byte ${at}`);
    }
  });

  const families: { name: string; make: (i: number) => Uint8Array; count: number; id?: (i: number) => string }[] = [
    { name: 'random pages', count: 20000, make: (i) => pageFrom(i) },
    {
      name: 'one bit set in a zero page (every bit)',
      count: PAGE_SIZE * 8,
      make: (i) => {
        const p = new Uint8Array(PAGE_SIZE);
        p[i >> 3] = 1 << (i & 7);
        return p;
      },
    },
    {
      name: 'one bit flipped in a random page (every bit)',
      count: PAGE_SIZE * 8,
      make: (i) => {
        const p = pageFrom(99);
        p[i >> 3] ^= 1 << (i & 7);
        return p;
      },
    },
    {
      name: 'a 32-bit counter at every aligned offset of a zero page',
      count: 20000,
      make: (i) => {
        const p = new Uint8Array(PAGE_SIZE);
        new DataView(p.buffer).setUint32(((i * 4) % PAGE_SIZE), Math.floor(i / 1024) + 1, true);
        return p;
      },
    },
    {
      name: 'two words swapped (order matters)',
      count: 4000,
      // The same pair twice, or a word with itself, is the same page.
      id: (i) => {
        const a = i % 1024;
        const b = (a + 1 + Math.floor(i / 1024)) % 1024;
        return `${Math.min(a, b)},${Math.max(a, b)}`;
      },
      make: (i) => {
        const p = pageFrom(7);
        const v = new DataView(p.buffer);
        const a = (i % 1024) * 4;
        const b = ((i % 1024 + 1 + Math.floor(i / 1024)) % 1024) * 4;
        const x = v.getUint32(a, true);
        v.setUint32(a, v.getUint32(b, true), true);
        v.setUint32(b, x, true);
        return p;
      },
    },
  ];

  for (const f of families) {
    it(`no collisions among ${f.name}`, () => {
      const seen = new Map<string, number>();
      const distinct = new Set<string>();
      for (let i = 0; i < f.count; i++) {
        const id = f.id?.(i) ?? String(i);
        if (distinct.has(id)) continue;
        distinct.add(id);
        const p = f.make(i);
        const k = key(h(p));
        const prior = seen.get(k);
        assert.equal(prior, undefined, `pages ${prior} and ${i} collide on ${k}`);
        seen.set(k, i);
      }
      assert.ok(seen.size > f.count / 2);
    });
  }

  it('avalanche: a single flipped bit changes about 32 of the 64 output bits, both halves', () => {
    const base = pageFrom(3);
    const b = h(base);
    let total = 0;
    let loOnly = 0;
    let hiOnly = 0;
    const n = 2048;
    for (let i = 0; i < n; i++) {
      const p = base.slice();
      const bit = (i * 16 + (i % 16)) % (PAGE_SIZE * 8);
      p[bit >> 3] ^= 1 << (bit & 7);
      const x = h(p);
      const dlo = popcount32((x.lo ^ b.lo) >>> 0);
      const dhi = popcount32((x.hi ^ b.hi) >>> 0);
      total += dlo + dhi;
      if (dhi === 0) loOnly++;
      if (dlo === 0) hiOnly++;
    }
    const mean = total / n;
    assert.ok(mean > 30 && mean < 34, `mean bits changed ${mean.toFixed(2)}`);
    assert.equal(loOnly + hiOnly, 0, 'a flip always moves both 32-bit halves');
  });

  it('samePage compares every byte', () => {
    const a = pageFrom(5);
    assert.ok(samePage(a, a.slice()));
    for (const at of [0, 3, 4095]) {
      const b = a.slice();
      b[at] ^= 0x80;
      assert.ok(!samePage(a, b), `byte ${at}`);
    }
    const unaligned = new Uint8Array(PAGE_SIZE + 3);
    unaligned.set(a, 3);
    assert.ok(samePage(a, unaligned.subarray(3)));
  });

  it('rejects buffers that are not one page', () => {
    assert.throws(() => h(new Uint8Array(100)), RangeError);
    assert.throws(() => hashWords(new Int32Array(2048), 1025, { hi: 0, lo: 0 }), RangeError);
    assert.throws(() => hashWords(new Int32Array(2048), -1, { hi: 0, lo: 0 }), RangeError);
  });

  it('pages as words inside a slab (frames of physical memory): hash, zero test and compare at any page offset', () => {
    const slots = 9;
    const slab = new Int32Array(slots * 1024);
    const pages = Array.from({ length: slots }, (_, i) => (i % 3 === 0 ? new Uint8Array(PAGE_SIZE) : pageFrom(300 + (i % 4))));
    pages.forEach((p, i) => slab.set(pageWords(p).words, i * 1024));
    for (let i = 0; i < slots; i++) {
      assert.ok(hashEquals(hashWords(slab, i * 1024, { hi: 0, lo: 0 }), h(pages[i])), `slot ${i}`);
      assert.equal(isZeroWords(slab, i * 1024), isZeroPage(pages[i]), `slot ${i}`);
      for (let j = 0; j < slots; j++) assert.equal(sameWords(slab, i * 1024, slab, j * 1024), samePage(pages[i], pages[j]), `slots ${i}, ${j}`);
    }
    // The last word of a page decides too (the compare and the zero test run to the end).
    slab[3 * 1024 + 1023] = 1;
    assert.ok(!isZeroWords(slab, 3 * 1024));
    assert.ok(!sameWords(slab, 0, slab, 3 * 1024));
    // The shared zero words: zero without a scan, and equal to any page of zeros.
    assert.ok(isZeroWords(ZERO_PAGE_WORDS, 0));
    assert.ok(sameWords(ZERO_PAGE_WORDS, 0, slab, 0));
    assert.ok(hashEquals(hashWords(ZERO_PAGE_WORDS, 0, { hi: 0, lo: 0 }), ZERO_PAGE_HASH));
  });

  it('every lane and every round reaches the output: one word changed anywhere moves the hash', () => {
    const base = pageFrom(8);
    const want = h(base);
    const seen = new Set<string>([key(want)]);
    for (let w = 0; w < 1024; w++) {
      const p = base.slice();
      new DataView(p.buffer).setUint32(w * 4, new DataView(p.buffer).getUint32(w * 4, true) + 1, true);
      const k = key(h(p));
      assert.ok(!seen.has(k), `word ${w}`);
      seen.add(k);
    }
  });
});
