// Generated conformance: a seeded sample of the access.c product space (PDE/PTE flags, reserved
// bits, CR0.WP, CR4.SMEP/SMAP, RFLAGS.AC, EFER.NXE, user/supervisor, read/write/fetch, a
// priming read) run through the real Mmu and compared against the independent reference model:
// fault or not, exact error code, CR2, physical address, and every paging entry bit for bit.
import { strict as assert } from 'node:assert';
import { PhysicalMemory } from '../../../src/engine/memory/physicalMemory';
import { Mmu, Tlb, canonicalize } from '../../../src/engine/mmu';
import { expectedAccess } from './referenceModel';
import { bit, read64, rng, write64 } from './testUtil';
import { generate32Bit, generate4Level } from './conformanceCases';
import type { Case } from './conformanceCases';

const CR0_PG = 0x80000000;
const CR0_WP = 1 << 16;
const CR4_PSE = 1 << 4;
const CR4_PAE = 1 << 5;
const CR4_SMEP = 1 << 20;
const CR4_SMAP = 1 << 21;
const EFER_LME = 1 << 8;
const EFER_LMA = 1 << 10;
const EFER_NXE = 1 << 11;
const ACCESS = ['read', 'write', 'fetch'] as const;

function describe64(c: Case): string {
  return `pde=${c.pde.toString(16)} pte=${c.pte.toString(16)} pdpteRO=${c.pdpteReadOnly} user=${c.user} write=${c.write} fetch=${c.fetch} nxe=${c.nxe} wp=${c.wp} smep=${c.smep} smap=${c.smap} ac=${c.ac} M=${c.maxPhyAddr} twice=${c.twice} lin=${c.linear.toString(16)}`;
}

function accessOf(c: Case): 0 | 1 | 2 {
  return c.fetch ? 2 : c.write ? 1 : 0;
}

/** Writes the tables for a case; returns the entry addresses, top level first. */
function build(mem: PhysicalMemory, c: Case): { cr3: number; entries: number[]; pdeAt: number; pteAt: number } {
  if (c.format === '4level') {
    const idx = (s: number) => Math.floor(c.linear / 2 ** s) % 512;
    const pml4e = 0x1000 + idx(39) * 8;
    const pdpte = 0x2000 + idx(30) * 8;
    const pdeAt = 0x3000 + idx(21) * 8 - 0x3000 + 0x4000; // PD at 0x4000
    const pteAt = 0x3000 + idx(12) * 8; // PT at 0x3000
    write64(mem, pml4e, 0x2007n);
    write64(mem, pdpte, 0x4005n | (c.pdpteReadOnly ? 0n : 2n));
    write64(mem, pdeAt, c.pde);
    write64(mem, pteAt, c.pte);
    return { cr3: 0x1000, entries: [pml4e, pdpte], pdeAt, pteAt };
  }
  const pdeAt = 0x1000 + (c.linear >>> 22) * 4;
  const pteAt = 0x2000 + ((c.linear >>> 12) & 0x3ff) * 4;
  mem.write32(pdeAt, Number(c.pde));
  mem.write32(pteAt, Number(c.pte));
  return { cr3: 0x1000, entries: [], pdeAt, pteAt };
}

function setControl(mmu: Mmu, c: Case, cr3: number): void {
  const cr0 = CR0_PG | 1 | (c.wp ? CR0_WP : 0);
  const cr4 = (c.format === '4level' ? CR4_PAE : 0) | (c.pse ? CR4_PSE : 0) | (c.smep ? CR4_SMEP : 0) | (c.smap ? CR4_SMAP : 0);
  const efer = (c.format === '4level' ? EFER_LME | EFER_LMA : 0) | (c.nxe ? EFER_NXE : 0);
  mmu.setControl(cr0, cr3, cr4, efer);
}

function runCase(c: Case): void {
  const mem = new PhysicalMemory(2 ** 30);
  const { cr3, entries, pdeAt, pteAt } = build(mem, c);
  const mmu = new Mmu(mem, new Tlb(), { maxPhyAddr: c.maxPhyAddr });
  setControl(mmu, c, cr3);
  const is64 = c.format === '4level';
  const readE = (pa: number) => (is64 ? read64(mem, pa) : BigInt(mem.read32(pa)));
  const ctx = () => describe64(c) + ` fmt=${c.format} pse=${c.pse}`;
  let state = { pde: c.pde, pte: c.pte };

  if (c.twice) {
    const prime = expectedAccess({ ...c, ...state, user: false, write: false, fetch: false, ac: false });
    const pa = mmu.translate(c.linear, 0, false, false);
    assert.equal(pa === -1, prime.fault, `priming read: ${ctx()}`);
    state = { pde: prime.pde, pte: prime.pte };
  }
  const want = expectedAccess({ ...c, ...state });

  // A probe first: same verdict, no side effects.
  const before = [...entries, pdeAt, pteAt].map(readE);
  const probe = mmu.walk(c.linear, ACCESS[accessOf(c)], c.user, { setAccessedDirty: false, ac: c.ac });
  assert.equal(!probe.ok, want.fault, `probe verdict: ${ctx()}`);
  if (want.fault) assert.equal(probe.errorCode, want.errorCode, `probe error code: ${ctx()}`);
  assert.deepEqual([...entries, pdeAt, pteAt].map(readE), before, `probe changed memory: ${ctx()}`);

  const pa = mmu.translate(c.linear, accessOf(c), c.user, c.ac);
  assert.equal(pa === -1, want.fault, `fault: ${ctx()} reason=${mmu.fault?.reason}`);
  if (want.fault) {
    assert.ok(mmu.fault);
    assert.equal(mmu.fault.errorCode, want.errorCode, `error code: ${ctx()} reason=${mmu.fault.reason}`);
    assert.equal(mmu.fault.linear, c.linear);
    assert.equal(mmu.fault.walk.linear, canonicalize(c.linear, is64 ? '4level' : '32bit'));
  } else {
    const size = want.large ? (is64 ? 2 ** 21 : 2 ** 22) : 4096;
    assert.equal(BigInt(pa), (want.pageBase ?? 0n) + BigInt(c.linear % size), `physical: ${ctx()}`);
  }
  for (const ea of entries) assert.equal(readE(ea) & bit(5), bit(5), `upper-level A: ${ctx()}`);
  assert.equal(readE(pdeAt).toString(16), want.pde.toString(16), `PDE after: ${ctx()}`);
  assert.equal(readE(pteAt).toString(16), want.pte.toString(16), `PTE after: ${ctx()}`);
}

describe('MMU conformance against the access.c reference model', () => {
  const tally: Record<string, number> = {};
  after(() => console.log(`      conformance cases run: ${JSON.stringify(tally)}`));

  for (const [format, gen, count, seed] of [['4-level', generate4Level, 20000, 1], ['32-bit', generate32Bit, 12000, 2]] as const) {
    it(`${format}: ${count} seeded combinations agree on fault, error code, CR2, address and A/D bits`, () => {
      const r = rng(seed);
      let faults = 0;
      for (let i = 0; i < count; i++) {
        const c = gen(r);
        runCase(c);
        if (expectedAccess(c).fault) faults++;
      }
      tally[format] = count;
      // The sample must exercise both outcomes substantially, or it proves little.
      assert.ok(faults > count * 0.2 && faults < count * 0.8, `faults ${faults} of ${count}`);
    });
  }

  it('covers every error-code value the model produces (4-level)', () => {
    const r = rng(3);
    const seen = new Set<number>();
    for (let i = 0; i < 20000; i++) {
      const m = expectedAccess(generate4Level(r));
      if (m.fault) seen.add(m.errorCode);
    }
    // P, W, U, RSVD, ID combinations reachable: not-present and protection and reserved, with and without ID.
    for (const code of [0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0x9, 0xb, 0xd, 0xf, 0x10, 0x11, 0x14, 0x15, 0x19, 0x1d]) {
      assert.ok(seen.has(code), `error code 0x${code.toString(16)} never generated`);
    }
  });
});
