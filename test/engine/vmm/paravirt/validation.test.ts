// Every validation rule of the paravirtual type system (reference §4 "Xen PV"), accepted and
// rejected, table-driven over a fresh VM per case; the audit must be clean after each one.
// Each errno is the one Xen's xen/arch/x86/mm.c returns for the same request (the comment on
// each rejected case names the function that decides it).
import { strict as assert } from 'node:assert';
import { Errno, PteBit } from '../../../../src/engine/vmm/paravirt/abi';
import { FrameType } from '../../../../src/engine/vmm/paravirt/frameTypes';
import type { FrameTypes, Rejection } from '../../../../src/engine/vmm/paravirt/frameTypes';
import { ent, pvVm } from './pvSupport';
import type { PvFixture } from './pvSupport';

const { P, RW, US, A, D, G, NX, PS, PWT, PCD } = PteBit;
const AVAIL = 0xe00n;

/** Guest pages the cases use: tables at 0x10.., data at 0x20... */
const T1 = 0x10, T2 = 0x11, T3 = 0x12, T4 = 0x13, T4B = 0x14, DATA = 0x20, DATA2 = 0x21;

type Result = Rejection | null | { level: number };

interface Case {
  name: string;
  run(f: PvFixture, t: FrameTypes): Result;
  /** 0 = accepted, else the errno. */
  errno: number;
  why?: RegExp;
  /** Extra checks after the operation. */
  then?(f: PvFixture, t: FrameTypes): void;
}

const ok = (r: Result): Result => r;
const upd = (t: FrameTypes, tableMfn: number, index: number, v: bigint, preserve = false): Result => t.update(tableMfn * 4096 + index * 8, v, preserve);
function pinAll(f: PvFixture, t: FrameTypes): void {
  for (const [ppn, level] of [[T1, 1], [T2, 2], [T3, 3], [T4, 4]]) assert.equal(t.pin(f.mfn(ppn), level), null);
}

const CASES: Case[] = [
  // ---------------------------------------------------------------- accepted
  ...[1, 2, 3, 4].map((level): Case => ({ name: `pin an empty L${level}`, errno: 0, run: (f, t) => t.pin(f.mfn(T1), level), then: (f, t) => assert.equal(t.typeOf(f.mfn(T1)), level) })),
  { name: 'L1: read-only mapping of a data frame', errno: 0, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T1), 0, ent(f.mfn(DATA), P | US))), then: (f, t) => assert.equal(t.typeOf(f.mfn(DATA)), FrameType.NONE) },
  { name: 'L1: writable mapping takes a writable reference', errno: 0, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T1), 0, ent(f.mfn(DATA), P | RW | US))), then: (f, t) => { assert.equal(t.typeOf(f.mfn(DATA)), FrameType.WRITABLE); assert.equal(t.count[f.mfn(DATA)], 1); } },
  { name: 'L1: every allowed flag (A D G NX AVAIL)', errno: 0, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T1), 1, ent(f.mfn(DATA), P | RW | US | A | D | G | NX | AVAIL))) },
  { name: 'L1: read-only mapping of a page table', errno: 0, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T1), 2, ent(f.mfn(T4), P))) },
  { name: 'L1: read-only mapping of the p2m copy', errno: 0, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T1), 3, ent(f.mfn(0xc0), P))) },
  { name: 'L1: a non-present entry is not checked', errno: 0, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T1), 4, 0xdead_b000n | PS)) },
  { name: 'L2 → a pinned L1 (count 2)', errno: 0, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T2), 0, ent(f.mfn(T1), P | RW | US))), then: (f, t) => assert.equal(t.count[f.mfn(T1)], 2) },
  { name: 'L2 → a fresh frame: validated as an L1 on the way', errno: 0, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T2), 1, ent(f.mfn(0x30), P | RW))), then: (f, t) => assert.equal(t.typeOf(f.mfn(0x30)), FrameType.L1) },
  { name: 'L3 → L2 and L4 → L3 with NX and AVAIL', errno: 0, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T3), 0, ent(f.mfn(T2), P | RW | NX | AVAIL)) ?? upd(t, f.mfn(T4), 0, ent(f.mfn(T3), P | RW))) },
  { name: 'L4: recursive self-mapping, read-only', errno: 0, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T4), 511, ent(f.mfn(T4), P))), then: (f, t) => assert.equal(t.count[f.mfn(T4)], 1) },
  { name: 'L4 → another L4, read-only (linear)', errno: 0, run: (f, t) => (pinAll(f, t), t.pin(f.mfn(T4B), 4), upd(t, f.mfn(T4), 510, ent(f.mfn(T4B), P))), then: (f, t) => assert.equal(t.count[f.mfn(T4B)], 2) },
  { name: 'mmu_update of a frame that is not a table: written directly', errno: 0, run: (f, t) => upd(t, f.mfn(DATA), 7, 0x1234n), then: (f, t) => { assert.equal(t.readEntry(f.mfn(DATA), 7), 0x1234n); assert.equal(t.count[f.mfn(DATA)], 0); } },
  {
    name: 'preserve-A/D keeps the A and D the hardware set', errno: 0,
    run: (f, t) => { pinAll(f, t); upd(t, f.mfn(T1), 0, ent(f.mfn(DATA), P | RW | A | D)); return upd(t, f.mfn(T1), 0, ent(f.mfn(DATA), P | RW | US), true); },
    then: (f, t) => assert.equal(t.readEntry(f.mfn(T1), 0), ent(f.mfn(DATA), P | RW | US | A | D)),
  },
  { name: 'replacing a writable mapping moves the reference', errno: 0, run: (f, t) => { pinAll(f, t); upd(t, f.mfn(T1), 0, ent(f.mfn(DATA), P | RW)); return upd(t, f.mfn(T1), 0, ent(f.mfn(DATA2), P | RW)); }, then: (f, t) => { assert.equal(t.count[f.mfn(DATA)], 0); assert.equal(t.count[f.mfn(DATA2)], 1); } },
  { name: 'new_baseptr with a pinned L4', errno: 0, run: (f, t) => (pinAll(f, t), t.newBase(0, f.mfn(T4))), then: (f, t) => assert.equal(t.count[f.mfn(T4)], 2) },
  {
    // new_guest_cr3 → get_page_and_type_from_mfn(PGT_root_page_table): validated on demand.
    name: 'new_baseptr with a valid L4 that is not pinned: validated on demand, its tree referenced', errno: 0,
    run: (f, t) => { t.writeEntry(f.mfn(0x36), 0, ent(f.mfn(0x37), P | RW)); return t.newBase(0, f.mfn(0x36)); },
    then: (f, t) => {
      assert.equal(t.typeOf(f.mfn(0x36)), FrameType.L4);
      assert.equal(t.count[f.mfn(0x36)], 1, 'the base reference only');
      assert.equal(t.typeOf(f.mfn(0x37)), FrameType.L3);
      assert.equal(t.base[0], f.mfn(0x36));
    },
  },
  {
    name: 'new_baseptr with a zeroed frame: an empty L4', errno: 0, run: (f, t) => t.newBase(0, f.mfn(DATA)),
    then: (f, t) => assert.equal(t.typeOf(f.mfn(DATA)), FrameType.L4),
  },
  {
    // new_guest_cr3: mfn == the current base → write_ptbase only, no reference change.
    name: 'new_baseptr with the current base: accepted, no reference change', errno: 0,
    run: (f, t) => { pinAll(f, t); assert.equal(t.newBase(0, f.mfn(T4)), null); return t.newBase(0, f.mfn(T4)); },
    then: (f, t) => assert.equal(t.count[f.mfn(T4)], 2),
  },
  {
    name: 'switching base releases the old one: an unpinned old base is devalidated', errno: 0,
    run: (f, t) => { assert.equal(t.newBase(0, f.mfn(0x36)), null); return t.newBase(0, f.mfn(0x38)); },
    then: (f, t) => { assert.equal(t.typeOf(f.mfn(0x36)), FrameType.NONE); assert.equal(t.count[f.mfn(0x38)], 1); },
  },
  {
    name: 'unpin devalidates and releases every reference', errno: 0,
    run: (f, t) => { assert.equal(t.pin(f.mfn(T1), 1), null); upd(t, f.mfn(T1), 0, ent(f.mfn(DATA), P | RW)); return t.unpin(f.mfn(T1)); },
    then: (f, t) => { assert.equal(t.typeOf(f.mfn(T1)), FrameType.NONE); assert.equal(t.count[f.mfn(DATA)], 0); },
  },
  { name: 'after unpinning, a former table may be mapped writable', errno: 0, run: (f, t) => { pinAll(f, t); t.pin(f.mfn(0x31), 1); t.unpin(f.mfn(0x31)); return upd(t, f.mfn(T1), 0, ent(f.mfn(0x31), P | RW)); } },
  { name: 'after the last writable mapping goes, a frame may become a table', errno: 0, run: (f, t) => { pinAll(f, t); upd(t, f.mfn(T1), 0, ent(f.mfn(0x32), P | RW)); upd(t, f.mfn(T1), 0, 0n); return t.pin(f.mfn(0x32), 1); } },

  // ---------------------------------------------------------------- rejected
  { name: 'L1: writable mapping of a page table', errno: Errno.EBUSY, why: /page table may be mapped read-only only/, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T1), 0, ent(f.mfn(T2), P | RW))) },
  { name: 'L1: writable mapping of itself', errno: Errno.EBUSY, why: /read-only only/, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T1), 0, ent(f.mfn(T1), P | RW))) },
  // get_page_from_l1e: get_page_type(PGT_writable_page) fails → could_not_pin → -EBUSY.
  { name: 'L1: writable mapping of the p2m copy', errno: Errno.EBUSY, why: /p2m/, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T1), 0, ent(f.mfn(0xc0), P | RW))) },
  // get_page_from_l1e: real_pg_owner != pg_owner → could_not_pin → -EBUSY.
  { name: "L1: the hypervisor's frame", errno: Errno.EBUSY, why: /belongs to the hypervisor/, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T1), 0, ent(0, P))) },
  { name: 'L1: a free frame', errno: Errno.EBUSY, why: /free/, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T1), 0, ent(f.machine.memory.frames.total - 1, P))) },
  // get_page_from_l1e: !mfn_valid → the I/O-memory path → !iomem_access_permitted → -EPERM.
  { name: 'L1: a frame beyond machine memory', errno: Errno.EPERM, why: /does not exist.*I\/O memory/, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T1), 0, ent(0x7_0000_0000, P))) },
  {
    name: "L1: another VM's frame", errno: Errno.EBUSY, why: /belongs to VM 2/,
    run: (f, t) => { const other = pvVm(4, 16, f.machine); pinAll(f, t); return upd(t, f.mfn(T1), 0, ent(other.mfn(0x20), P)); },
  },
  ...([['PWT', PWT], ['PCD', PCD], ['PAT', PS], ['bits 52–62', 1n << 55n]] as const).map(([n, bit]): Case => ({ name: `L1: ${n} is not allowed`, errno: Errno.EINVAL, why: /flag not allowed in an L1 entry/, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T1), 0, ent(f.mfn(DATA), P | bit))) })),
  ...[2, 3].map((level): Case => ({ name: `L${level}: PS (a large page) is not allowed`, errno: Errno.EINVAL, why: /PS \(bit 7\)/, run: (f, t) => (pinAll(f, t), upd(t, f.mfn([T1, T2, T3][level - 1]), 0, ent(f.mfn(DATA), P | RW | PS))) })),
  ...[2, 3, 4].map((level): Case => ({ name: `L${level}: G is allowed in L1 only`, errno: Errno.EINVAL, why: /G \(bit 8\)/, run: (f, t) => (pinAll(f, t), upd(t, f.mfn([T1, T2, T3, T4][level - 1]), 0, ent(f.mfn([T1, T2, T3][level - 2]), P | G))) })),
  // get_page_from_l2e → get_page_and_type_from_mfn → _get_page_type: "Bad type" → -EINVAL.
  { name: 'L2 → a writable-mapped frame', errno: Errno.EINVAL, why: /mapped writable/, run: (f, t) => { pinAll(f, t); upd(t, f.mfn(T1), 0, ent(f.mfn(DATA), P | RW)); return upd(t, f.mfn(T2), 0, ent(f.mfn(DATA), P)); } },
  { name: 'L3 → an L1 table (wrong level)', errno: Errno.EINVAL, why: /L1 page table .*cannot also be an L2/, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T3), 0, ent(f.mfn(T1), P | RW))) },
  { name: 'L4: writable recursive self-mapping', errno: Errno.EINVAL, why: /recursive mapping .* must be read-only/, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T4), 511, ent(f.mfn(T4), P | RW))) },
  { name: 'L4 → another L4, writable', errno: Errno.EINVAL, why: /linear.* must be read-only/, run: (f, t) => (pinAll(f, t), t.pin(f.mfn(T4B), 4), upd(t, f.mfn(T4), 510, ent(f.mfn(T4B), P | RW))) },
  { name: 'pin twice', errno: Errno.EINVAL, why: /already pinned/, run: (f, t) => (t.pin(f.mfn(T1), 1), t.pin(f.mfn(T1), 1)) },
  // do_mmuext_op pin_page → get_page_type_preemptible → _get_page_type → -EINVAL.
  { name: 'pin a frame that is writable-mapped', errno: Errno.EINVAL, why: /mapped writable/, run: (f, t) => { pinAll(f, t); upd(t, f.mfn(T1), 0, ent(f.mfn(DATA), P | RW)); return t.pin(f.mfn(DATA), 1); } },
  { name: 'pin as L2 a frame already an L1', errno: Errno.EINVAL, why: /cannot also be/, run: (f, t) => (t.pin(f.mfn(T1), 1), t.pin(f.mfn(0x33), 2), upd(t, f.mfn(0x33), 0, ent(f.mfn(T1), P)), t.unpin(f.mfn(T1)), t.pin(f.mfn(T1), 2)) },
  {
    // promote_l1_table passes get_page_from_l1e's -EBUSY up through _get_page_type.
    name: 'pin an L1 whose contents map a page table writable', errno: Errno.EBUSY, why: /entry 5 of the new L1 table/,
    run: (f, t) => { t.pin(f.mfn(T2), 2); t.writeEntry(f.mfn(0x34), 5, ent(f.mfn(T2), P | RW)); return t.pin(f.mfn(0x34), 1); },
    then: (f, t) => assert.equal(t.typeOf(f.mfn(0x34)), FrameType.NONE),
  },
  {
    name: 'a failed validation releases the references it took', errno: Errno.EBUSY, why: /entry 1 of the new L1 table/,
    run: (f, t) => { t.writeEntry(f.mfn(0x35), 0, ent(f.mfn(DATA), P | RW)); t.writeEntry(f.mfn(0x35), 1, ent(0, P)); return t.pin(f.mfn(0x35), 1); },
    then: (f, t) => assert.equal(t.count[f.mfn(DATA)], 0),
  },
  // pin_page: get_page_from_gfn fails → -EINVAL.
  { name: 'pin a frame the VM does not own', errno: Errno.EINVAL, why: /hypervisor/, run: (_f, t) => t.pin(0, 1) },
  { name: 'pin a frame beyond machine memory', errno: Errno.EINVAL, why: /does not exist/, run: (f, t) => t.pin(f.machine.memory.frames.total + 5, 1) },
  { name: 'pin the p2m copy', errno: Errno.EINVAL, why: /p2m/, run: (f, t) => t.pin(f.mfn(0xc0), 1) },
  // An L2 entry naming a frame Xen cannot get: get_page_from_mfn fails → -EINVAL (not L1's -EBUSY).
  { name: "L2 → the hypervisor's frame", errno: Errno.EINVAL, why: /belongs to the hypervisor/, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T2), 0, ent(0, P))) },
  { name: 'L4 → a frame beyond machine memory', errno: Errno.EINVAL, why: /does not exist/, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T4), 0, ent(0x7_0000_0000, P))) },
  // MMUEXT_UNPIN_TABLE: get_page_from_gfn fails → -EINVAL.
  { name: 'unpin a frame the VM does not own', errno: Errno.EINVAL, why: /hypervisor/, run: (_f, t) => t.unpin(0) },
  { name: 'unpin a frame that is not pinned', errno: Errno.EINVAL, why: /not pinned/, run: (f, t) => t.unpin(f.mfn(T1)) },
  // new_guest_cr3 → get_page_and_type_from_mfn(PGT_root_page_table): a conflict is -EINVAL ...
  { name: 'new_baseptr with an L3', errno: Errno.EINVAL, why: /needs an L4 table.*L3 page table .*cannot also be an L4/, run: (f, t) => (pinAll(f, t), t.newBase(0, f.mfn(T3))) },
  { name: 'new_baseptr with a writable-mapped frame', errno: Errno.EINVAL, why: /mapped writable/, run: (f, t) => (pinAll(f, t), upd(t, f.mfn(T1), 0, ent(f.mfn(DATA), P | RW)), t.newBase(0, f.mfn(DATA))) },
  // ... a frame that does not validate as an L4 gives the entry's error, and nothing is held ...
  {
    name: 'new_baseptr with a frame whose contents are not a valid L4', errno: Errno.EINVAL, why: /entry 3 of the new L4 table.*PS/,
    run: (f, t) => { t.writeEntry(f.mfn(0x36), 3, ent(f.mfn(0x37), P | PS)); return t.newBase(0, f.mfn(0x36)); },
    then: (f, t) => { assert.equal(t.typeOf(f.mfn(0x36)), FrameType.NONE); assert.equal(t.base[0], -1); },
  },
  // ... and a frame it cannot get is -EINVAL (get_page_from_mfn fails).
  { name: "new_baseptr with the hypervisor's frame", errno: Errno.EINVAL, why: /hypervisor/, run: (_f, t) => t.newBase(0, 0) },
  { name: 'mmu_update: entry address not 8-byte aligned', errno: Errno.EINVAL, why: /aligned/, run: (f, t) => (pinAll(f, t), t.update(f.mfn(T1) * 4096 + 4, 0n, false)) },
  // do_mmu_update: rc = -EINVAL stands when get_page_from_gfn fails or get_page_type(writable) does.
  { name: 'mmu_update: the p2m copy', errno: Errno.EINVAL, why: /p2m/, run: (f, t) => upd(t, f.mfn(0xc0), 0, 0n) },
  { name: "mmu_update: the hypervisor's frame", errno: Errno.EINVAL, why: /hypervisor/, run: (_f, t) => upd(t, 0, 0, 0n) },
  { name: "mmu_update: another VM's frame", errno: Errno.EINVAL, why: /belongs to VM 2/, run: (f, t) => { const other = pvVm(4, 16, f.machine); return upd(t, other.mfn(0x20), 0, 0n); } },
];

describe('paravirt validation', () => {
  for (const c of CASES) {
    it(`${c.errno === 0 ? 'accepts' : 'rejects'}: ${c.name}`, () => {
      const f = pvVm();
      const t = f.inst.types;
      const r = ok(c.run(f, t));
      if (c.errno === 0) {
        assert.ok(r === null || !('errno' in r), `expected acceptance, got ${JSON.stringify(r)}`);
      } else {
        assert.ok(r !== null && 'errno' in r, 'expected a rejection');
        assert.equal(r.errno, c.errno, r.why);
        if (c.why) assert.match(r.why, c.why);
      }
      c.then?.(f, t);
      assert.deepEqual(f.inst.audit!(), []);
    });
  }

  it('counts both accepted and rejected cases for every rule family', () => {
    assert.ok(CASES.filter((c) => c.errno === 0).length >= 15);
    assert.ok(CASES.filter((c) => c.errno !== 0).length >= 25);
  });
});
