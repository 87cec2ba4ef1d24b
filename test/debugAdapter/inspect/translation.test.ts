import { strict as assert } from 'node:assert';
import { FORMATS, MARKER, MODES, REMAPPED, REMAPPED_GPA, UNMAPPED, program, runFixture } from './fixtures';
import { probeTranslation } from '../../../src/debugAdapter/inspect/translation';
import { readMemory, writeMemory } from '../../../src/debugAdapter/inspect/memory';
import { gvaRef, gpaRef, mpaRef } from '../../../src/debugAdapter/inspect/memoryRef';
import type { InspectTarget } from '../../../src/debugAdapter/inspect/target';

function le64(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
}

/** Everything a probe could disturb: TLB counters and contents, and every byte of machine memory touched. */
function fingerprint(t: InspectTarget): string {
  const v = t.vms[0];
  const tlb = v.vm.tlbs[0];
  const mem = t.machine ? t.machine.memory.bytes : v.vm.mem;
  const frames = 'allFrames' in mem ? (mem as { allFrames(): { number: number; data: Uint8Array }[] }).allFrames() : [];
  let h = 0;
  for (const f of frames) for (let i = 0; i < f.data.length; i++) h = (h * 31 + f.data[i] + i) | 0;
  return JSON.stringify({ c: tlb.counters(), e: tlb.entries(), frames: frames.length, h, backed: v.p2m?.backedPages ?? -1, free: t.machine?.memory.frames.free ?? -1 });
}

describe('inspect: translation probes and memory', () => {
  for (const f of FORMATS) {
    for (const mode of MODES) {
      describe(`${f} ${mode}`, () => {
        const fx = runFixture(program(f), mode);
        const { target, v } = fx;

        it('ran the guest to its hlt with the marker read back', () => {
          assert.equal(v.vm.vcpus[0].getReg(3), MARKER);
        });

        it('translates the remapped page to its gpa, with one level per table', () => {
          const p = probeTranslation(target, v, 0, BigInt(REMAPPED + 0x123));
          assert.equal(p.ok, true, p.reason ?? '');
          assert.equal(p.gpa, REMAPPED_GPA + 0x123);
          assert.equal(p.guest.levels.length, f === '4level' ? 4 : 2);
          const leaf = p.guest.levels[p.guest.levels.length - 1];
          assert.equal(leaf.index, 0x80);
          assert.equal(Number(leaf.entry & 0xfffff000n), REMAPPED_GPA);
          assert.ok(p.mpa !== null);
          if (mode === 'native') assert.equal(p.mpa, p.gpa);
          if (mode === 'nested') assert.ok(p.ept && p.ept.ok && p.twoD?.ok && p.twoD.levels.every((l) => l.secondStage));
          if (mode === 'shadow') assert.equal(p.shadow?.agrees, true, p.shadow?.note);
        });

        it('reports the unmapped page as a failed walk', () => {
          const p = probeTranslation(target, v, 0, BigInt(UNMAPPED));
          assert.equal(p.ok, false);
          assert.match(p.reason ?? '', /PTE not present/);
        });

        it('probe walks and reads change nothing (memory, TLB, p2m)', () => {
          const before = fingerprint(target);
          for (const a of [REMAPPED, UNMAPPED, 0x1000, 0x3ff000, 0x7000000]) {
            probeTranslation(target, v, 0, BigInt(a));
            probeTranslation(target, v, 0, BigInt(a), 'write');
            readMemory(target, gvaRef(1, 0, a), 0, 16);
          }
          readMemory(target, gpaRef(1, 0x600000), 0, 4096);
          assert.equal(fingerprint(target), before);
        });

        it('reads the marker in gva, gpa and mpa spaces', () => {
          const p = probeTranslation(target, v, 0, BigInt(REMAPPED));
          assert.equal(le64(readMemory(target, gvaRef(1, 0, REMAPPED), 0, 8).bytes), MARKER);
          assert.equal(le64(readMemory(target, gpaRef(1, REMAPPED_GPA), 0, 8).bytes), MARKER);
          assert.equal(le64(readMemory(target, mpaRef(p.mpa!), 0, 8).bytes), MARKER);
        });

        it('marks an unmapped gva range unreadable, never zeros', () => {
          const r = readMemory(target, gvaRef(1, 0, UNMAPPED - 8), 0, 4096 + 16);
          assert.deepEqual(r.unreadable, [{ offset: 8, length: 4096 }]);
          assert.match(r.reason ?? '', /not present/);
          assert.equal(r.bytes.length, 4096 + 16);
        });

        it('marks gpa beyond memory unreadable', () => {
          const r = readMemory(target, gpaRef(1, v.vm.mem.size - 4), 0, 8);
          assert.deepEqual(r.unreadable, [{ offset: 4, length: 4 }]);
        });

        it('writes through gva land at the gpa; unmapped writes are refused whole', () => {
          writeMemory(target, gvaRef(1, 0, REMAPPED), 8, [1, 2, 3, 4]);
          assert.deepEqual([...readMemory(target, gpaRef(1, REMAPPED_GPA + 8), 0, 4).bytes], [1, 2, 3, 4]);
          const before = [...readMemory(target, gvaRef(1, 0, UNMAPPED - 2), 0, 2).bytes];
          assert.throws(() => writeMemory(target, gvaRef(1, 0, UNMAPPED - 2), 0, [9, 9, 9, 9]), /not present/);
          assert.deepEqual([...readMemory(target, gvaRef(1, 0, UNMAPPED - 2), 0, 2).bytes], before);
        });
      });
    }
  }
});
