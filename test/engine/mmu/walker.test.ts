// Walks in every mode and page size, the walk record's contents, reserved-bit and fault
// reasons, PAE PDPTE registers, mode selection and canonical addresses.
import { strict as assert } from 'node:assert';
import { PhysicalMemory } from '../../../src/engine/memory/physicalMemory';
import { Mmu, Tlb, canonicalize, pdpteReloadNeeded, selectPagingMode } from '../../../src/engine/mmu';
import type { PagingMode } from '../../../src/engine/mmu';
import { bit, PageTableBuilder, read64, write64 } from './testUtil';

const PG = 0x80000000, WP = 1 << 16;
const PSE = 1 << 4, PAE = 1 << 5, LA57 = 1 << 12, SMEP = 1 << 20, SMAP = 1 << 21;
const LME = 1 << 8, LMA = 1 << 10, NXE = 1 << 11;
const P = 1n, W = 2n, U = 4n;

function longMode(levels: 4 | 5, opts: { nxe?: boolean; wp?: boolean; cr4?: number; maxPhyAddr?: number } = {}) {
  const mem = new PhysicalMemory(2 ** 32);
  const b = new PageTableBuilder(mem, 0x100000, levels);
  const mmu = new Mmu(mem, new Tlb(), { maxPhyAddr: opts.maxPhyAddr ?? 40 });
  mmu.setControl(PG | 1 | (opts.wp ? WP : 0), b.root, PAE | (levels === 5 ? LA57 : 0) | (opts.cr4 ?? 0), LME | LMA | (opts.nxe ? NXE : 0));
  return { mem, b, mmu };
}

describe('page walker', () => {
  describe('mode selection and addresses', () => {
    const table: [number, number, number, PagingMode][] = [
      [0, 0, 0, 'none'], [1, PAE, LME, 'none'], [PG, 0, 0, '32bit'], [PG, PSE, 0, '32bit'], [PG, PAE, 0, 'pae'],
      [PG, PAE, LME, '4level'], [PG, PAE, LMA, '4level'], [PG, PAE | LA57, LME | LMA, '5level'],
    ];
    for (const [cr0, cr4, efer, mode] of table) {
      it(`cr0=${cr0.toString(16)} cr4=${cr4.toString(16)} efer=${efer.toString(16)} → ${mode}`, () => assert.equal(selectPagingMode(cr0, cr4, efer), mode));
    }
    it('canonicalizes by sign-extending bit 47 or 56', () => {
      assert.equal(canonicalize(0x8000_0000_0000, '4level'), 0xffff_8000_0000_0000n);
      assert.equal(canonicalize(0x7fff_ffff_f000, '4level'), 0x7fff_ffff_f000n);
      assert.equal(canonicalize(2 ** 56, '5level'), 0xff00_0000_0000_0000n);
      assert.equal(canonicalize(0xffff_f000, '32bit'), 0xffff_f000n);
    });
    it('knows which CR0/CR4 changes reload PAE PDPTEs', () => {
      assert.equal(pdpteReloadNeeded(PG, PG, PAE, PAE | 1 << 7), true);
      assert.equal(pdpteReloadNeeded(PG, PG, PAE, PAE | SMAP), false);
      assert.equal(pdpteReloadNeeded(PG, PG | WP, PAE, PAE), false);
      assert.equal(pdpteReloadNeeded(0, PG, PAE, PAE), true);
    });
    it('paging off: linear is physical and nothing is cached', () => {
      const mem = new PhysicalMemory(2 ** 20);
      const mmu = new Mmu(mem, new Tlb());
      assert.equal(mmu.translate(0x1234, 1, true, false), 0x1234);
      assert.equal(mmu.tlb.validEntries, 0);
    });
  });

  describe('4-level record', () => {
    it('records levels, indices, table chain, entries and references', () => {
      const { mem, b, mmu } = longMode(4);
      const lin = 0x7f12_3456_7abc;
      const leafAt = b.map(lin, 0xabc000, P | W | U);
      const pa = mmu.translate(lin, 1, false, false);
      assert.equal(pa, 0xabcabc);
      const w = mmu.lastWalk!;
      assert.deepEqual(w.levels.map((l) => l.name), ['PML4', 'PDPT', 'PD', 'PT']);
      assert.deepEqual(w.levels.map((l) => l.level), [4, 3, 2, 1]);
      assert.deepEqual(w.levels.map((l) => l.index), [0xfe, 0x48, 0x1a2, 0x167]);
      assert.equal(w.levels[0].tableAddress, b.root);
      for (let i = 0; i < 4; i++) {
        const l = w.levels[i];
        assert.equal(l.entryAddress, l.tableAddress + l.index * 8);
        assert.equal(l.entryAfter, read64(mem, l.entryAddress));
        assert.equal(l.accessedSet, true);
        if (i < 3) assert.equal(w.levels[i + 1].tableAddress, Number(l.entry & 0xffffffffff000n));
      }
      assert.equal(w.levels[3].dirtySet, true);
      assert.equal(w.levels[3].entryAddress, leafAt);
      assert.equal(w.entryReads, 4);
      assert.equal(w.adWrites, 4, 'A on three tables, A|D on the leaf in one write');
      assert.equal(w.memoryReferences, 8);
      assert.equal(w.pageSize, 4096);
      assert.deepEqual(w.rights, { write: true, user: true, execute: true });
      // Once A/D are set a walk only reads.
      const again = mmu.walk(lin, 'write', false, { setAccessedDirty: true });
      assert.equal(again.memoryReferences, 4);
      assert.equal(again.adWrites, 0);
      assert.ok(again.levels.every((l) => !l.accessedSet && !l.dirtySet && l.flags.a));
      assert.equal(JSON.stringify(again, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)).length > 0, true);
    });

    it('probe does not set A/D and does not fill the TLB or lastWalk', () => {
      const { mem, b, mmu } = longMode(4);
      const leafAt = b.map(0x5000, 0x9000, P | W);
      const before = read64(mem, leafAt);
      const r = mmu.walk(0x5000, 'write', false, { setAccessedDirty: false });
      assert.equal(r.ok, true);
      assert.equal(r.adWrites, 0);
      assert.equal(read64(mem, leafAt), before);
      assert.equal(mmu.tlb.validEntries, 0);
      assert.equal(mmu.lastWalk, null);
    });
  });

  describe('page sizes in every mode', () => {
    const cases: { name: string; levels: 4 | 5; leaf: number; size: number; depth: number }[] = [
      { name: '4-level 4 KiB', levels: 4, leaf: 1, size: 2 ** 12, depth: 4 },
      { name: '4-level 2 MiB', levels: 4, leaf: 2, size: 2 ** 21, depth: 3 },
      { name: '4-level 1 GiB', levels: 4, leaf: 3, size: 2 ** 30, depth: 2 },
      { name: '5-level 4 KiB', levels: 5, leaf: 1, size: 2 ** 12, depth: 5 },
      { name: '5-level 2 MiB', levels: 5, leaf: 2, size: 2 ** 21, depth: 4 },
      { name: '5-level 1 GiB', levels: 5, leaf: 3, size: 2 ** 30, depth: 3 },
    ];
    for (const c of cases) {
      it(`${c.name}: ${c.depth} levels, page size, physical address`, () => {
        const { b, mmu } = longMode(c.levels);
        const lin = c.levels === 5 ? 0x1_2345_6789_abcd_e : 0x5555_4321_0fed;
        const frame = 2 ** 33 + 3 * c.size;
        b.map(lin, frame, P | W | U, c.leaf);
        const pa = mmu.translate(lin, 0, true, false);
        assert.equal(pa, frame + (lin % c.size));
        const w = mmu.lastWalk!;
        assert.equal(w.levels.length, c.depth);
        assert.equal(w.pageSize, c.size);
        assert.equal(w.frameBase, frame);
        assert.equal(w.levels[c.depth - 1].leaf, true);
        assert.equal(w.levels[c.depth - 1].flags.ps, c.leaf > 1);
        assert.equal(w.linear, canonicalize(lin, c.levels === 5 ? '5level' : '4level'));
        const e = mmu.tlb.entries();
        assert.equal(e.length, 1);
        assert.equal(e[0].large, c.leaf > 1);
        assert.equal(e[0].pageSize, c.size);
      });
    }

    it('5-level: upper-half address is canonical in the record and CR2', () => {
      const { mmu } = longMode(5);
      const lin = 2 ** 56 + 0x1000;
      assert.equal(mmu.translate(lin, 0, false, false), -1);
      assert.equal(mmu.fault!.walk.linear, 0xff00_0000_0000_1000n);
      assert.equal(mmu.fault!.walk.levels[0].index, 256);
      assert.equal(mmu.fault!.reason, 'PML5E not present');
    });

    it('32-bit: 4 KiB through PD and PT with 4-byte entries', () => {
      const mem = new PhysicalMemory(2 ** 24);
      const mmu = new Mmu(mem, new Tlb());
      mem.write32(0x1000 + 0x301 * 4, 0x2000 | 7);
      mem.write32(0x2000 + 0x234 * 4, 0x77000 | 3);
      mmu.setControl(PG | 1, 0x1000, 0, 0);
      assert.equal(mmu.translate(0xc0634567, 1, false, false), 0x77567);
      const w = mmu.lastWalk!;
      assert.deepEqual(w.levels.map((l) => [l.name, l.index, l.entryAddress]), [['PD', 0x301, 0x1c04], ['PT', 0x234, 0x28d0]]);
      assert.equal(mem.read32(0x28d0), 0x77000 | 0x63);
      assert.equal(mem.read32(0x1c04), 0x2000 | 0x27);
    });

    it('32-bit: PSE-36 4 MiB page above 4 GiB; bit 21 and bits above MAXPHYADDR are reserved', () => {
      const mem = new PhysicalMemory(2 ** 24);
      const mmu = new Mmu(mem, new Tlb(), { maxPhyAddr: 36 });
      mem.write32(0x1000, 0x00c00000 | (0x5 << 13) | 0x83);
      mmu.setControl(PG | 1, 0x1000, PSE, 0);
      assert.equal(mmu.translate(0x12345, 0, false, false), 5 * 2 ** 32 + 0xc00000 + 0x12345);
      assert.equal(mmu.lastWalk!.levels.length, 1);
      assert.equal(mmu.lastWalk!.pageSize, 2 ** 22);
      mem.write32(0x1004, 0x00c00000 | (0x10 << 13) | 0x83); // PA bit 36 with MAXPHYADDR 36
      assert.equal(mmu.translate(0x400000, 0, false, false), -1);
      assert.equal(mmu.fault!.errorCode, 0x9);
      assert.equal(mmu.fault!.reason, 'reserved bit set in PDE (bit 17)');
      mem.write32(0x1008, (1 << 21) | 0x83);
      assert.equal(mmu.translate(0x800000, 0, false, false), -1);
      assert.deepEqual(mmu.fault!.walk.levels[0].reservedBits, [21]);
      // Without CR4.PSE the PS bit is ignored: the PDE points at a page table.
      mmu.setControl(PG | 1, 0x1000, 0, 0);
      assert.equal(mmu.walk(0x12345, 'read', false, { setAccessedDirty: false }).levels.length, 2);
    });
  });

  describe('PAE', () => {
    function pae(nxe = false) {
      const mem = new PhysicalMemory(2 ** 24);
      const mmu = new Mmu(mem, new Tlb(), { maxPhyAddr: 40 });
      // CR3 → PDPT at 0x1020 (32-byte aligned); PDPTE 2 → PD 0x3000; PDE 5 → PT 0x4000; PDE 6 → 2 MiB.
      write64(mem, 0x1020 + 2 * 8, 0x3000n | P);
      write64(mem, 0x3000 + 5 * 8, 0x4000n | P | W | U);
      write64(mem, 0x3000 + 6 * 8, 0x600000n | P | W | bit(7) | (nxe ? bit(63) : 0n));
      write64(mem, 0x4000 + 7 * 8, 0x99000n | P | W | U);
      mmu.setControl(PG | 1, 0x1020, PAE, nxe ? NXE : 0);
      return { mem, mmu };
    }
    it('walks PDPTE register → PD → PT; the PDPTE costs no reference', () => {
      const { mmu } = pae();
      assert.equal(mmu.loadPdptes(), true);
      const lin = 2 * 2 ** 30 + 5 * 2 ** 21 + 7 * 4096 + 0x12;
      assert.equal(mmu.translate(lin, 0, true, false), 0x99012);
      const w = mmu.lastWalk!;
      assert.equal(w.pdpteFromRegister, true);
      assert.deepEqual(w.levels.map((l) => l.name), ['PDPT', 'PD', 'PT']);
      assert.equal(w.entryReads, 2);
      assert.equal(w.levels[0].accessedSet, false, 'PAE PDPTEs have no A bit');
    });
    it('2 MiB page, and XD with NXE reports ID', () => {
      const { mmu } = pae(true);
      mmu.loadPdptes();
      const lin = 2 * 2 ** 30 + 6 * 2 ** 21 + 0x1234;
      assert.equal(mmu.translate(lin, 0, false, false), 0x601234);
      assert.equal(mmu.lastWalk!.pageSize, 2 ** 21);
      assert.equal(mmu.translate(lin, 2, false, false), -1);
      assert.equal(mmu.fault!.errorCode, 0x11);
      assert.equal(mmu.fault!.reason, 'instruction fetch from no-execute page (PDE.XD=1)');
    });
    it('uses the loaded registers, not memory, until reloaded', () => {
      const { mem, mmu } = pae();
      mmu.loadPdptes();
      write64(mem, 0x1020 + 2 * 8, 0n);
      const lin = 2 * 2 ** 30 + 5 * 2 ** 21 + 7 * 4096;
      assert.equal(mmu.walk(lin, 'read', false, { setAccessedDirty: false }).ok, true);
      assert.equal(mmu.loadPdptes(), true);
      const r = mmu.walk(lin, 'read', false, { setAccessedDirty: false });
      assert.equal(r.ok, false);
      assert.equal(r.errorCode, 0);
      assert.equal(r.reason, 'PDPTE not present');
    });
    for (const b of [1, 2, 5, 6, 7, 8, 40, 51, 62, 63]) {
      it(`a present PDPTE with reserved bit ${b} fails the load (#GP) and keeps the old registers`, () => {
        const { mem, mmu } = pae(true);
        mmu.loadPdptes();
        const before = mmu.pdptes();
        write64(mem, 0x1020, 0x5000n | P | bit(b));
        assert.equal(mmu.loadPdptes(), false);
        assert.deepEqual(mmu.pdptes(), before);
      });
    }
    it('a not-present PDPTE may hold anything', () => {
      const { mem, mmu } = pae();
      write64(mem, 0x1020, bit(63) | bit(5) | 0x6n);
      assert.equal(mmu.loadPdptes(), true);
    });
  });

  describe('reserved bits and fault reasons', () => {
    it('4-level reserved positions by level', () => {
      const { mem, b, mmu } = longMode(4, { maxPhyAddr: 40 });
      const at = b.map(0x40000000, 0x80000000, P | W, 3); // a 1 GiB leaf
      const pml4e = b.root;
      const t = (setAt: number, bits: bigint, reason: string) => {
        const old = read64(mem, setAt);
        write64(mem, setAt, old | bits);
        const r = mmu.walk(0x40000000, 'read', false, { setAccessedDirty: false });
        assert.equal(r.errorCode, 0x9, reason);
        assert.equal(r.reason, reason);
        write64(mem, setAt, old);
      };
      t(at, bit(13), 'reserved bit set in PDPTE (bit 13)');
      t(at, bit(29), 'reserved bit set in PDPTE (bit 29)');
      t(at, bit(40) | bit(51), 'reserved bit set in PDPTE (bits 40, 51)');
      t(at, bit(63), 'reserved bit set in PDPTE (bit 63)');
      t(pml4e, bit(7), 'reserved bit set in PML4E (bit 7)');
      assert.equal(mmu.walk(0x40000000, 'read', false, { setAccessedDirty: false }).ok, true);
    });

    it('names the level that denies the access', () => {
      const { b, mmu } = longMode(4, { wp: true, nxe: true, cr4: SMEP | SMAP });
      b.map(0x1000, 0x10000, P | U); // read-only user page
      b.map(0x200000, 0x20000, P | W); // supervisor page (different PD entry, same PD)
      const r = (lin: number, access: 'read' | 'write' | 'fetch', user: boolean, ac = false, implicit = false) =>
        mmu.walk(lin, access, user, { setAccessedDirty: false, ac, implicit });
      assert.equal(r(0x1000, 'write', true).reason, 'write to read-only page (PTE.R/W=0)');
      assert.equal(r(0x1000, 'write', true).errorCode, 0x7);
      assert.equal(r(0x200000, 'read', true).reason, 'user access to supervisor page (PTE.U/S=0)');
      assert.equal(r(0x1000, 'fetch', false).reason, 'SMEP: supervisor fetch from user page');
      assert.equal(r(0x1000, 'fetch', false).errorCode, 0x11);
      assert.equal(r(0x1000, 'read', false).reason, 'SMAP: supervisor data access to user page with RFLAGS.AC=0');
      assert.equal(r(0x1000, 'read', false, true).ok, true);
      assert.equal(r(0x1000, 'read', false, true, true).reason, 'SMAP: implicit supervisor access to user page');
      assert.equal(r(0x3000, 'read', false).reason, 'PTE not present');
      assert.equal(r(0x3000, 'read', false).errorCode, 0);
    });
  });
});
