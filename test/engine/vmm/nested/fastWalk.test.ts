// The fast 2-D walk (a warm TLB miss, no record built until asked) must be invisible: the
// record materialised later equals the full walk's record field for field, the counts
// (2-D walks, references, TLB misses) are the same, the TLB entry is the same, and anything
// not warm (an A/D bit to set, a fault, an EPT violation) still takes the full walk.
import { strict as assert } from 'node:assert';
import type { NestedOptions } from '../../../../src/engine/vmm/options';
import type { NestedMmu } from '../../../../src/engine/vmm/nested';
import { buildGuest, enterPaging, nestedVm, WALK_LINEAR, EPT_VARIANTS } from './nestedTestUtil';
import type { GuestPaging } from './nestedTestUtil';

const LINEAR = WALK_LINEAR;
const EPTS = EPT_VARIANTS;
const ACCESSES: { label: string; access: 0 | 1 | 2; user: boolean }[] = [
  { label: 'read', access: 0, user: false },
  { label: 'user write', access: 1, user: true },
  { label: 'fetch', access: 2, user: false },
];

/** Switches the fast path off on one port (test only: the full walk for comparison). */
function withoutFastPath(port: NestedMmu): void {
  (port as unknown as { fast: unknown }).fast = null;
}

interface Observed {
  pa: number;
  record: unknown;
  walks: number;
  refs: number;
  misses: number;
  tlb: unknown;
}

function observe(paging: '4level' | '5level', large: boolean, nested: Partial<NestedOptions>, access: 0 | 1 | 2, user: boolean, fast: boolean): Observed {
  const s = nestedVm({ memoryBytes: 64 * 2 ** 20, machineBytes: 256 * 2 ** 20, modeOptions: { nested } });
  if (!fast) withoutFastPath(s.port);
  const t = buildGuest(s.vm.mem, paging as GuestPaging, LINEAR[paging], large ? 0x400000 : 0x205000, { largeLeaf: large });
  enterPaging(s.port, paging, t.cr3);
  // Cold: lazy mapping, A/D set (full walk either way); then warm, from an empty TLB.
  assert.ok(s.port.translate(LINEAR[paging], access, user, false) >= 0, s.port.fault?.reason);
  s.machine.hostTlb.flushVpid(undefined);
  const tr = s.instance.vmm.translator;
  const w0 = tr.walks;
  const r0 = tr.walkReferences;
  const m0 = s.machine.hostTlb.counters().misses;
  const pa = s.port.translate(LINEAR[paging], access, user, false);
  // The fast path was taken (its record not built yet) exactly when it is on.
  assert.equal((s.port as unknown as { lastWalkLazy: boolean }).lastWalkLazy, fast);
  return {
    pa, record: s.port.lastWalk, walks: tr.walks - w0, refs: tr.walkReferences - r0,
    misses: s.machine.hostTlb.counters().misses - m0,
    tlb: s.machine.hostTlb.entries().map((e) => ({ ...e, lastUse: 0 })),
  };
}

describe('nested: the fast 2-D walk is the full walk, without the allocation', () => {
  for (const paging of ['4level', '5level'] as const) {
    for (const large of [false, true]) {
      for (const e of EPTS) {
        for (const a of ACCESSES) {
          it(`${paging}${large ? ', 2 MiB guest page' : ''}, ${e.label}, ${a.label}: same record, counts and TLB entry`, () => {
            const full = observe(paging, large, e.nested, a.access, a.user, false);
            const fast = observe(paging, large, e.nested, a.access, a.user, true);
            assert.ok(full.pa >= 0);
            assert.deepEqual(fast, full);
            assert.equal(full.walks, 1);
          });
        }
      }
    }
  }

  it('a warm walk that must set a guest A/D bit, or that faults, takes the full walk (and records it at once)', () => {
    const s = nestedVm({ memoryBytes: 64 * 2 ** 20, machineBytes: 256 * 2 ** 20 });
    const lin = LINEAR['4level'];
    const t = buildGuest(s.vm.mem, '4level', lin, 0x205000, { leafFlags: 0x25 }); // P, U/S, A: read-only, clean
    enterPaging(s.port, '4level', t.cr3);
    assert.ok(s.port.translate(lin, 0, false, false) >= 0);
    s.machine.hostTlb.flushVpid(undefined);
    // User write to a read-only page: a #PF with the full record.
    assert.equal(s.port.translate(lin, 1, true, false), -1);
    assert.equal(s.port.fault?.errorCode, 7);
    assert.equal(s.port.lastWalk?.ok, false);
    assert.equal(s.port.fault?.walk, s.port.lastWalk);
  });

  it('the lazily built record is the walk of its own miss, even after the tables change', () => {
    const s = nestedVm({ memoryBytes: 64 * 2 ** 20, machineBytes: 256 * 2 ** 20 });
    const lin = LINEAR['4level'];
    const t = buildGuest(s.vm.mem, '4level', lin, 0x205000);
    enterPaging(s.port, '4level', t.cr3);
    assert.ok(s.port.translate(lin, 0, false, false) >= 0);
    s.machine.hostTlb.flushVpid(undefined);
    assert.ok(s.port.translate(lin, 0, false, false) >= 0);
    const leaf = t.tables[t.tables.length - 1] + ((lin / 4096) % 512) * 8;
    const before = BigInt(s.vm.mem.readU(leaf, 4));
    s.vm.mem.writeU(leaf, 4, 0); // the guest clears its PTE afterwards
    const rec = s.port.lastWalk!;
    assert.equal(rec.levels[3].entry & 0xffffffffn, before);
    assert.equal(rec.memoryReferences, 24);
    assert.equal(rec.finalSecondStage?.gpa, 0x205000 + 0x123);
  });
});
