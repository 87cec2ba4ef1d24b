// Physical memory keeps written frames in slabs: each frame a 4 KiB window on a shared buffer,
// found through a sparse index. What must hold whatever the layout: frames never written read as
// zeros and cost nothing; a frame is one object for good (vCPUs cache it) and zeroFrame clears it
// in place; frames never alias one another; the word view (wordsOf) is the same bytes; and a
// time-travel snapshot restores the bytes, drops frames made since and hands their slots out
// again clean.
import { strict as assert } from 'node:assert';
import { PhysicalMemory } from '../../../src/engine/memory/physicalMemory';
import { PAGE_SIZE, PAGE_WORDS } from '../../../src/engine/memory/frame';
import type { FrameWords } from '../../../src/engine/memory/frame';
import { StateSnapshot } from '../../../src/engine/stateSnapshot';
import { seededU32 } from '../../../src/engine/memory/overcommit/seededRandom';

const GiB = 2 ** 30;

/** Frame numbers in a seeded order, spread over `frames` (distinct). */
function scattered(count: number, frames: number, seed: number): number[] {
  const next = seededU32(seed);
  const set = new Set<number>();
  while (set.size < count) set.add(next() % frames);
  return [...set];
}

describe('physical memory: frames in slabs', () => {
  for (const count of [1, 15, 16, 17, 300, 1500]) {
    it(`${count} frames written in a scattered order hold their own bytes, and nothing else is backed`, () => {
      const mem = new PhysicalMemory(8 * GiB);
      const fns = scattered(count, (8 * GiB) / PAGE_SIZE, count);
      fns.forEach((fn, i) => {
        mem.write32(fn * PAGE_SIZE, i + 1);
        mem.write32(fn * PAGE_SIZE + PAGE_SIZE - 4, ~i);
      });
      assert.equal(mem.touchedFrames, count);
      fns.forEach((fn, i) => {
        assert.equal(mem.read32(fn * PAGE_SIZE), i + 1, `frame ${fn}`);
        assert.equal(mem.read32(fn * PAGE_SIZE + PAGE_SIZE - 4), ~i >>> 0, `frame ${fn}`);
        assert.equal(mem.read32(fn * PAGE_SIZE + 4), 0);
        assert.equal(mem.peekFrame(fn)!.number, fn);
      });
      // Neighbours never written read as zeros and stay unbacked.
      for (const fn of fns.slice(0, 50)) {
        for (const other of [fn - 1, fn + 1]) {
          if (fns.includes(other) || other < 0) continue;
          assert.equal(mem.read32(other * PAGE_SIZE), 0);
          assert.equal(mem.peekFrame(other), undefined);
        }
      }
      assert.equal(mem.touchedFrames, count);
      // Listed in frame order, each once.
      const listed = mem.allFrames().map((f) => f.number);
      assert.deepEqual(listed, [...fns].sort((a, b) => a - b));
    });
  }

  it('slabs grow from 16 frames to 1 MiB; the bytes held stay proportional to the frames written', () => {
    const mem = new PhysicalMemory(GiB);
    assert.equal(mem.slabBytes, 0);
    mem.write8(123 * PAGE_SIZE, 1);
    assert.equal(mem.slabBytes, 16 * PAGE_SIZE);
    for (let fn = 0; fn < 2000; fn++) mem.write8(fn * 7 * PAGE_SIZE, 1);
    assert.equal(mem.touchedFrames, 2001);
    // 16 + 32 + 64 + 128 frames, then 1 MiB slabs: never more than one slab beyond what is written.
    assert.ok(mem.slabBytes >= 2001 * PAGE_SIZE && mem.slabBytes <= 2001 * PAGE_SIZE + 256 * PAGE_SIZE, `${mem.slabBytes}`);
  });

  it('frames share slabs but never bytes: a whole-page write stays in its frame', () => {
    const mem = new PhysicalMemory(64 * 1024 * 1024);
    const frames = Array.from({ length: 40 }, (_, i) => mem.frameForWrite(i * 3)!);
    assert.ok(frames.some((f, i) => i > 0 && f.data.buffer === frames[0].data.buffer), 'frames live in a shared slab');
    frames.forEach((f, i) => f.data.fill(i + 1));
    frames.forEach((f, i) => {
      assert.ok(f.data.every((b) => b === i + 1), `frame ${f.number}`);
      assert.equal(f.view.getUint32(0, true), (i + 1) * 0x01010101);
      assert.equal(f.view.byteLength, PAGE_SIZE);
    });
  });

  it('a frame is one object for good: zeroFrame clears it in place, frameForWrite finds the same one', () => {
    const mem = new PhysicalMemory(GiB);
    const f = mem.frameForWrite(77)!;
    f.data.fill(0xab);
    f.decoded = [];
    mem.zeroFrame(77);
    assert.equal(mem.frameForWrite(77), f);
    assert.equal(mem.peekFrame(77), f);
    assert.ok(f.data.every((b) => b === 0));
    assert.equal(f.decoded, null);
    assert.equal(mem.touchedFrames, 1);
  });

  it('outside memory: no frame, reads all ones, writes dropped; frame numbers beyond the index are refused', () => {
    const mem = new PhysicalMemory(16 * PAGE_SIZE);
    assert.equal(mem.frameForWrite(16), undefined);
    assert.equal(mem.frameForWrite(-1), undefined);
    assert.equal(mem.peekFrame(2 ** 40), undefined);
    mem.write8(16 * PAGE_SIZE, 5);
    assert.equal(mem.read8(16 * PAGE_SIZE), 0xff);
    assert.equal(mem.touchedFrames, 0);
  });

  it('wordsOf points at the same bytes as the frame, as little-endian words; false for a frame never written', () => {
    const mem = new PhysicalMemory(GiB);
    const out: FrameWords = { words: new Int32Array(0), at: -1 };
    assert.equal(mem.wordsOf(5, out), false);
    assert.equal(out.at, -1);
    const fns = scattered(600, GiB / PAGE_SIZE, 9);
    for (const fn of fns) mem.write32(fn * PAGE_SIZE + 8, fn ^ 0x5a5a5a5a);
    for (const fn of fns) {
      assert.ok(mem.wordsOf(fn, out));
      assert.equal(out.at % PAGE_WORDS, 0);
      assert.equal(out.words[out.at + 2] >>> 0, (fn ^ 0x5a5a5a5a) >>> 0);
      // A write through the frame shows in the words and back.
      const f = mem.peekFrame(fn)!;
      f.view.setUint32(PAGE_SIZE - 4, 0xdeadbeef, true);
      assert.equal(out.words[out.at + PAGE_WORDS - 1] >>> 0, 0xdeadbeef);
      out.words[out.at] = 42;
      assert.equal(mem.read32(fn * PAGE_SIZE), 42);
    }
  });
});

describe('physical memory: time-travel snapshots over slabs', () => {
  it('restore brings bytes back, drops frames made since, and their slots come back zeroed', () => {
    const mem = new PhysicalMemory(GiB);
    for (let fn = 0; fn < 20; fn++) mem.write32(fn * 5 * PAGE_SIZE, fn + 1);
    const snap = new StateSnapshot([mem]);
    // A snapshot copies frames, not slabs.
    assert.ok(snap.ownBytes < 20 * PAGE_SIZE + 64 * 1024, `${snap.ownBytes} bytes copied`);
    mem.write32(0, 999);
    const later = Array.from({ length: 30 }, (_, i) => 10_000 + i);
    for (const fn of later) mem.frameForWrite(fn)!.data.fill(0xee);
    assert.equal(mem.touchedFrames, 50);
    snap.restore();
    assert.equal(mem.touchedFrames, 20);
    assert.equal(mem.read32(0), 1);
    for (let fn = 0; fn < 20; fn++) assert.equal(mem.read32(fn * 5 * PAGE_SIZE), fn + 1);
    for (const fn of later) assert.equal(mem.peekFrame(fn), undefined);
    // New frames take the slots the dropped ones had: they must read as zeros.
    const out: FrameWords = { words: new Int32Array(0), at: 0 };
    for (let i = 0; i < 30; i++) {
      const f = mem.frameForWrite(20_000 + i)!;
      assert.ok(f.data.every((b) => b === 0), `frame ${f.number} reuses a dirty slot`);
      assert.ok(mem.wordsOf(f.number, out));
      assert.equal(out.words[out.at + 5], 0);
    }
    assert.equal(mem.touchedFrames, 50);
  });

  it('a restore across a new slab: the word view follows the slab the frame is in now', () => {
    const mem = new PhysicalMemory(GiB);
    mem.write8(0, 1);
    const snap = new StateSnapshot([mem]);
    for (let fn = 1; fn < 100; fn++) mem.write8(fn * PAGE_SIZE, 2); // fills slab 0, starts slabs 1–2
    const out: FrameWords = { words: new Int32Array(0), at: 0 };
    assert.ok(mem.wordsOf(99, out));
    snap.restore();
    for (let fn = 1; fn < 100; fn++) mem.write8(fn * PAGE_SIZE + 1, 3);
    for (let fn = 1; fn < 100; fn++) {
      assert.ok(mem.wordsOf(fn, out));
      assert.equal(out.words[out.at] >>> 0, 0x300, `frame ${fn}`);
    }
  });
});
