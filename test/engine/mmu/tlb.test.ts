// TLB behaviour through the Mmu: hits and misses, every flush rule, PCID and global pages,
// large pages, LRU replacement, D on a write to a clean entry, stale translations, VPID tags.
import { strict as assert } from 'node:assert';
import { PhysicalMemory } from '../../../src/engine/memory/physicalMemory';
import { Mmu, Tlb } from '../../../src/engine/mmu';
import type { TlbConfig } from '../../../src/engine/mmu';
import { bit, PageTableBuilder, read64, write64 } from './testUtil';

const PG = 0x80000000, WP = 1 << 16;
const PAE = 1 << 5, PGE = 1 << 7, PCIDE = 1 << 17, SMEP = 1 << 20, SMAP = 1 << 21;
const LME = 1 << 8, LMA = 1 << 10, NXE = 1 << 11;
const P = 1n, W = 2n, U = 4n, G = bit(8);
const EFER = LME | LMA | NXE;

function setup(cr4 = 0, tlb: Partial<TlbConfig> = {}) {
  const mem = new PhysicalMemory(2 ** 32);
  const b = new PageTableBuilder(mem);
  const mmu = new Mmu(mem, new Tlb(tlb));
  let cr0 = PG | 1 | WP;
  let cr3 = b.root;
  let cr4v = PAE | cr4;
  mmu.setControl(cr0, cr3, cr4v, EFER);
  const ctl = {
    cr3(v: number, noFlush = false) {
      cr3 = v;
      mmu.setControl(cr0, cr3, cr4v, EFER);
      return mmu.onCr3Write(v, noFlush);
    },
    cr4(v: number) {
      const old = cr4v;
      cr4v = v;
      mmu.setControl(cr0, cr3, cr4v, EFER);
      return mmu.onCr4Write(old, v);
    },
    cr0(v: number) {
      const old = cr0;
      cr0 = v;
      mmu.setControl(cr0, cr3, cr4v, EFER);
      return mmu.onCr0Write(old, v);
    },
  };
  return { mem, b, mmu, ctl };
}

const has = (mmu: Mmu, lin: number) => mmu.tlb.entries().some((e) => lin >= e.linearBase && lin < e.linearBase + e.pageSize && e.pcid === mmu.currentPcid);
const cachedPages = (mmu: Mmu) => mmu.tlb.entries().map((e) => `${e.linearBase.toString(16)}/${e.pcid}`).sort();

describe('TLB', () => {
  it('counts hits and misses by access kind; a hit needs no table read', () => {
    const { b, mmu } = setup();
    b.map(0x1000, 0x8000, P | W);
    mmu.translate(0x1000, 0, false, false);
    const walk = mmu.lastWalk;
    assert.equal(mmu.translate(0x1ff8, 0, false, false), 0x8ff8);
    assert.equal(mmu.translate(0x1010, 2, false, false), 0x8010);
    assert.equal(mmu.lastWalk, walk, 'no walk on hits');
    const c = mmu.tlb.counters();
    assert.deepEqual([c.hits, c.misses], [2, 1]);
    assert.deepEqual(c.hitsByAccess, { read: 1, write: 0, fetch: 1 });
    assert.deepEqual(c.missesByAccess, { read: 1, write: 0, fetch: 0 });
  });

  it('a write hitting an entry whose D is clear walks again and sets D; later writes hit', () => {
    const { mem, b, mmu } = setup();
    const pte = b.map(0x1000, 0x8000, P | W);
    mmu.translate(0x1000, 0, false, false);
    assert.equal(read64(mem, pte) & bit(6), 0n);
    mmu.translate(0x1000, 1, false, false);
    assert.equal(read64(mem, pte) & bit(6), bit(6));
    assert.equal(mmu.tlb.counters().missesByAccess.write, 1);
    mmu.translate(0x1004, 1, false, false);
    assert.equal(mmu.tlb.counters().hitsByAccess.write, 1);
    assert.equal(mmu.tlb.entries()[0].dirty, true);
  });

  it('keeps a stale translation until INVLPG (the guest that forgets INVLPG reads old data)', () => {
    const { mem, b, mmu } = setup();
    const pte = b.map(0x1000, 0x8000, P | W);
    assert.equal(mmu.translate(0x1000, 0, false, false), 0x8000);
    write64(mem, pte, 0x9000n | P | W);
    assert.equal(mmu.translate(0x1000, 0, false, false), 0x8000, 'stale');
    assert.deepEqual(mmu.invlpg(0x1000), { scope: 'page', entriesRemoved: 1 });
    assert.equal(mmu.translate(0x1000, 0, false, false), 0x9000);
  });

  it('relaxed rights re-walk instead of a spurious #PF; a #PF flushes the address', () => {
    const { mem, b, mmu } = setup();
    const pte = b.map(0x1000, 0x8000, P);
    mmu.translate(0x1000, 0, false, false);
    write64(mem, pte, read64(mem, pte) | W);
    assert.equal(mmu.translate(0x1000, 1, false, false), 0x8000);
    write64(mem, pte, 0x8000n | P);
    mmu.tlb.flushAll(0);
    mmu.translate(0x1000, 0, false, false);
    assert.equal(mmu.tlb.validEntries, 1);
    assert.equal(mmu.translate(0x1000, 1, false, false), -1);
    assert.deepEqual(mmu.fault!.flush, { scope: 'page', entriesRemoved: 1 });
    assert.equal(mmu.tlb.validEntries, 0);
  });

  it('CR0.WP is not cached: toggling it takes effect without a flush (check_toggle_cr0_wp)', () => {
    const { b, mmu, ctl } = setup();
    b.map(0x1000, 0x8000, P);
    assert.equal(ctl.cr0(PG | 1), null);
    assert.equal(mmu.translate(0x1000, 1, false, false), 0x8000);
    assert.equal(ctl.cr0(PG | 1 | WP), null);
    assert.equal(mmu.translate(0x1000, 1, false, false), -1);
    assert.equal(mmu.fault!.errorCode, 0x3);
  });

  it('SMEP after a WP=0 supervisor write to a read-only user page still faults a fetch (check_smep_andnot_wp)', () => {
    const { b, mmu, ctl } = setup(SMEP);
    b.map(0x1000, 0x8000, P | U);
    ctl.cr0(PG | 1);
    assert.equal(mmu.translate(0x1000, 1, false, false), 0x8000);
    assert.equal(mmu.translate(0x1000, 2, false, false), -1);
    assert.equal(mmu.fault!.errorCode, 0x11);
  });

  it('effective rights are per path: two PDPTEs with different R/W share one PD (check_effective_sp_permissions)', () => {
    const { mem, b, mmu } = setup();
    b.map(0x0, 0x8000, P | W); // PML4[0] → PDPT; PDPT[0] → PD
    const pdpt = Number(read64(mem, b.root) & 0xffffff000n);
    const pd = read64(mem, pdpt) & 0xffffff000n;
    write64(mem, pdpt + 8, pd | P | U); // PDPT[1] → same PD, read-only
    assert.equal(mmu.translate(0x0, 1, true, false), -1, 'PTE is supervisor');
    write64(mem, Number(read64(mem, Number(pd)) & 0xffffff000n), 0x8000n | P | W | U);
    assert.equal(mmu.translate(0x0, 1, true, false), 0x8000);
    assert.equal(mmu.translate(2 ** 30, 1, true, false), -1);
    assert.equal(mmu.fault!.reason, 'write to read-only page (PDPTE.R/W=0)');
  });

  describe('flush rules', () => {
    function withPages(cr4: number) {
      const s = setup(cr4);
      s.b.map(0x1000, 0x8000, P | W | G);
      s.b.map(0x2000, 0x9000, P | W);
      s.mmu.translate(0x1000, 0, false, false);
      s.mmu.translate(0x2000, 0, false, false);
      return s;
    }

    it('MOV CR3 flushes non-global entries; G survives only with CR4.PGE', () => {
      const a = withPages(PGE);
      assert.deepEqual(a.ctl.cr3(a.b.root), { scope: 'non-global', entriesRemoved: 1 });
      assert.ok(has(a.mmu, 0x1000) && !has(a.mmu, 0x2000));
      const c = withPages(0);
      assert.deepEqual(c.ctl.cr3(c.b.root), { scope: 'non-global', entriesRemoved: 2 });
    });

    it('PCID: entries are tagged, MOV CR3 flushes only the new PCID, bit 63 flushes nothing', () => {
      const { b, mmu, ctl } = setup(PCIDE);
      b.map(0x2000, 0x9000, P | W);
      ctl.cr3(b.root | 1);
      mmu.translate(0x2000, 0, false, false);
      assert.equal(ctl.cr3(b.root | 2, true), null);
      assert.equal(has(mmu, 0x2000), false, 'PCID 1 entry invisible under PCID 2');
      mmu.translate(0x2000, 0, false, false);
      assert.deepEqual(cachedPages(mmu), ['2000/1', '2000/2']);
      ctl.cr3(b.root | 1, true);
      const hits = mmu.tlb.counters().hits;
      mmu.translate(0x2000, 0, false, false);
      assert.equal(mmu.tlb.counters().hits, hits + 1, 'PCID 1 entry reused');
      assert.deepEqual(ctl.cr3(b.root | 2), { scope: 'pcid', entriesRemoved: 1 });
      assert.deepEqual(cachedPages(mmu), ['2000/1']);
    });

    it('INVLPG removes the page in the current PCID and its global entries in every PCID', () => {
      const { b, mmu, ctl } = setup(PCIDE | PGE);
      b.map(0x1000, 0x8000, P | W | G);
      b.map(0x2000, 0x9000, P | W);
      ctl.cr3(b.root | 1);
      mmu.translate(0x1000, 0, false, false); // global, filled under PCID 1
      mmu.translate(0x2000, 0, false, false);
      ctl.cr3(b.root | 2, true);
      mmu.translate(0x2000, 0, false, false);
      const hits = mmu.tlb.counters().hits;
      assert.equal(mmu.translate(0x1000, 0, false, false), 0x8000);
      assert.equal(mmu.tlb.counters().hits, hits + 1, 'the global entry hits under PCID 2');
      assert.deepEqual(mmu.invlpg(0x1000), { scope: 'page', entriesRemoved: 1 });
      assert.deepEqual(mmu.invlpg(0x2000), { scope: 'page', entriesRemoved: 1 });
      assert.deepEqual(cachedPages(mmu), ['2000/1']);
    });

    it('INVPCID types 0-3 and its #GP cases', () => {
      const fill = () => {
        const s = setup(PCIDE | PGE);
        s.b.map(0x1000, 0x8000, P | W | G);
        s.b.map(0x2000, 0x9000, P | W);
        for (const pcid of [1, 2]) {
          s.ctl.cr3(s.b.root | pcid, true);
          s.mmu.translate(0x1000, 0, false, false);
          s.mmu.translate(0x2000, 0, false, false);
        }
        return s; // global 1000/1, 2000/1, 2000/2 (the global one hits in PCID 2)
      };
      let s = fill();
      assert.deepEqual(cachedPages(s.mmu), ['1000/1', '2000/1', '2000/2']);
      assert.deepEqual(s.mmu.invpcid(0, 1, 0x1000), { scope: 'page', entriesRemoved: 0 }, 'type 0 keeps globals');
      assert.deepEqual(s.mmu.invpcid(0, 1, 0x2000), { scope: 'page', entriesRemoved: 1 });
      s = fill();
      assert.deepEqual(s.mmu.invpcid(1, 2, 0), { scope: 'pcid', entriesRemoved: 1 });
      assert.deepEqual(cachedPages(s.mmu), ['1000/1', '2000/1']);
      s = fill();
      assert.deepEqual(s.mmu.invpcid(3, 0, 0), { scope: 'non-global', entriesRemoved: 2 });
      assert.deepEqual(cachedPages(s.mmu), ['1000/1']);
      s = fill();
      assert.deepEqual(s.mmu.invpcid(2, 0, 0), { scope: 'all', entriesRemoved: 3 });
      assert.equal(s.mmu.invpcid(4, 0, 0), null);
      assert.equal(s.mmu.invpcid(1, 4096, 0), null);
      const noPcid = setup();
      assert.equal(noPcid.mmu.invpcid(0, 5, 0), null);
      assert.equal(noPcid.mmu.invpcid(1, 5, 0), null);
      assert.notEqual(noPcid.mmu.invpcid(2, 5, 0), null);
      assert.notEqual(noPcid.mmu.invpcid(1, 0, 0), null);
    });

    const cr4Cases: [string, number, number, string | null, number][] = [
      ['PGE set', 0, PGE, 'all', 2],
      ['PGE cleared', PGE, 0, 'all', 2],
      ['PCIDE cleared', PGE | PCIDE, PGE, 'all', 2],
      ['SMEP set', PGE, PGE | SMEP, 'pcid', 1],
      ['SMEP cleared', PGE | SMEP, PGE, null, 0],
      ['SMAP set', PGE, PGE | SMAP, null, 0],
      ['PCIDE set', PGE, PGE | PCIDE, null, 0],
    ];
    for (const [name, from, to, scope, removed] of cr4Cases) {
      it(`MOV CR4 ${name}: ${scope ?? 'no flush'}`, () => {
        const s = withPages(from);
        const r = s.ctl.cr4(PAE | to);
        assert.deepEqual(r, scope === null ? null : { scope, entriesRemoved: removed });
      });
    }

    it('MOV CR4 changing PAE flushes the current PCID (32-bit ↔ PAE)', () => {
      const mem = new PhysicalMemory(2 ** 24);
      const mmu = new Mmu(mem, new Tlb());
      mem.write32(0x1000, 0x2000 | 3);
      mem.write32(0x2000 + 4, 0x5000 | 3);
      mmu.setControl(PG | 1, 0x1000, 0, 0);
      mmu.translate(0x1000, 0, false, false);
      assert.deepEqual(mmu.onCr4Write(0, PAE), { scope: 'pcid', entriesRemoved: 1 });
    });

    it('MOV CR0 clearing PG flushes everything, globals included', () => {
      const s = withPages(PGE);
      assert.deepEqual(s.ctl.cr0(1), { scope: 'all', entriesRemoved: 2 });
    });
  });

  it('large pages live in the fully-associative array; 4 KiB pages in their set', () => {
    const { b, mmu } = setup(0, { entries: 8, ways: 2, largeEntries: 2 });
    b.map(0x40000000, 0x80000000, P | W, 3);
    b.map(0x600000, 0x200000, P | W, 2);
    b.map(0x3000, 0x5000, P | W);
    for (const lin of [0x40000000, 0x600000, 0x3000]) mmu.translate(lin, 0, false, false);
    const e = mmu.tlb.entries();
    assert.deepEqual(e.map((x) => [x.large, x.set, x.pageSize]), [[false, 3, 4096], [true, -1, 2 ** 30], [true, -1, 2 ** 21]]);
    assert.equal(mmu.translate(0x7fffff, 0, false, false), 0x3fffff);
    assert.equal(mmu.tlb.counters().hits, 1);
  });

  it('replaces the least recently used way of a set', () => {
    const { b, mmu } = setup(0, { entries: 4, ways: 4, largeEntries: 0 });
    for (let i = 0; i < 5; i++) b.map(0x10000 + i * 4096, 0x80000 + i * 4096, P | W);
    for (let i = 0; i < 4; i++) mmu.translate(0x10000 + i * 4096, 0, false, false);
    mmu.translate(0x10000, 0, false, false); // page 0 is now most recent; page 1 is LRU
    mmu.translate(0x14000, 0, false, false);
    const pages = mmu.tlb.entries().map((e) => (e.linearBase - 0x10000) / 4096).sort();
    assert.deepEqual(pages, [0, 2, 3, 4]);
  });

  it('sets are chosen by the low VPN bits', () => {
    const tlb = new Tlb({ entries: 16, ways: 2, largeEntries: 0 });
    const r = { write: true, user: false, execute: true };
    for (let i = 0; i < 8; i++) tlb.insert(i * 4096 + 0x123, 4096, 0x1000 * i, r, false, false, 0, 0);
    assert.deepEqual(tlb.entries().map((e) => e.set), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(tlb.find(5 * 4096 + 7, 0, 0), 10);
    assert.equal(tlb.find(5 * 4096 + 7, 1, 0), -1, 'other PCID');
    assert.equal(tlb.find(5 * 4096 + 7, 0, 1), -1, 'other VPID');
  });

  it('VPID tags separate guests; flushVpid removes one VPID', () => {
    const { b, mmu } = setup();
    b.map(0x1000, 0x8000, P | W);
    mmu.translate(0x1000, 0, false, false);
    mmu.vpid = 3;
    mmu.translate(0x1000, 0, false, false);
    assert.equal(mmu.tlb.counters().misses, 2);
    assert.deepEqual(mmu.tlb.flushVpid(3), { scope: 'all', entriesRemoved: 1 });
    assert.deepEqual(mmu.tlb.entries().map((e) => e.vpid), [0]);
  });

  it('rejects impossible geometry', () => {
    assert.throws(() => new Tlb({ entries: 6, ways: 4 }), RangeError);
    assert.throws(() => new Mmu(new PhysicalMemory(4096), new Tlb(), { maxPhyAddr: 53 }), RangeError);
  });
});
