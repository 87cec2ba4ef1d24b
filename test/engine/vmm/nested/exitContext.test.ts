// Regression tests from the hypervisor review: what an EPT exit reports must belong to the
// access that caused it. (1) A debugger probe made while an exit is handled (from an
// `ept-violation` listener) must not leak its linear address, PDPTE-load state or half-read
// entry into the access being served. (2) An access to a gpa beyond the VM's memory ("empty
// bus") is an EPT violation with the exact SDM table 28-7 qualification, announced like any
// other. (3) An EPT misconfiguration has no guest-linear address (SDM §28.2.1).
import { strict as assert } from 'node:assert';
import { FAULT } from '../../../../src/engine/cpu/cpu';
import type { EngineEvent } from '../../../../src/engine/events';
import { EMPTY_BUS_RESOLUTION } from '../../../../src/engine/vmm/nested';
import { buildGuest, controlsFor, enterPaging, nestedVm } from './nestedTestUtil';
import type { GuestPaging, NestedSetup } from './nestedTestUtil';

const LIN = 2 ** 39 + 2 * 2 ** 30 + 3 * 2 ** 21 + 4 * 4096;
const LIN32 = 3 * 2 ** 30 + 5 * 2 ** 22 + 6 * 4096;
const DATA = 0x205000;
const R = 1, W = 2, F = 4, LV = 0x80, FIN = 0x100, US = 0x200, RW = 0x400, XD = 0x800;
const MEM = 8 * 2 ** 20;
const BEYOND = 0x900000;

interface Seen {
  gpa: bigint;
  gva: bigint | undefined;
  qualification: bigint;
  resolution: string;
}

function record(s: NestedSetup, probe: boolean): { seen: Seen[]; exits: { reason: number; gl: bigint | undefined; q: bigint }[] } {
  const seen: Seen[] = [];
  const exits: { reason: number; gl: bigint | undefined; q: bigint }[] = [];
  s.vm.bus.on('ept-violation', (e: EngineEvent) => {
    if (e.kind !== 'ept-violation') return;
    seen.push({ gpa: e.gpa, gva: e.gva, qualification: e.qualification, resolution: e.resolution });
    // The debugger inspecting another address (and the same one) mid-exit.
    if (probe) {
      s.port.walk(LIN, 'fetch', false, { setAccessedDirty: false });
      s.port.walk(0x1234000, 'write', true, { setAccessedDirty: false });
    }
  });
  s.vm.bus.on('vm-exit', (e: EngineEvent) => {
    if (e.kind === 'vm-exit') exits.push({ reason: e.reason, gl: e.guestLinear, q: e.qualification });
  });
  return { seen, exits };
}

interface Scenario {
  name: string;
  run(s: NestedSetup): number;
}

/** A guest page-table entry (the leaf for `lin` in a 4-level guest built by buildGuest). */
function pteOf(tables: number[], lin: number): number {
  return tables[3] + (Math.floor(lin / 4096) % 512) * 8;
}

const scenarios: Scenario[] = [
  ...(['4level', '5level'] as GuestPaging[]).flatMap((p): Scenario[] => [0, 1, 2].map((access) => ({
    name: `${p} first touch, access ${access}`,
    run: (s) => {
      const t = buildGuest(s.vm.mem, p, LIN, DATA);
      enterPaging(s.port, p, t.cr3);
      return s.port.translate(LIN, access as 0 | 1 | 2, true, false);
    },
  }))),
  {
    name: 'PAE: PDPTE load (bit 7 clear) then first touch',
    run: (s) => {
      const t = buildGuest(s.vm.mem, 'pae', LIN32, DATA);
      enterPaging(s.port, 'pae', t.cr3);
      assert.equal(s.port.lastPdpteLoad.length, 4, 'the PDPTE load kept its own EPT walks (one per PDPTE)');
      return s.port.translate(LIN32, 0, false, false);
    },
  },
  {
    name: 'empty bus: a guest PTE naming a gpa beyond memory (final translation)',
    run: (s) => {
      const t = buildGuest(s.vm.mem, '4level', LIN, DATA);
      enterPaging(s.port, '4level', t.cr3);
      s.vm.mem.writeU(pteOf(t.tables, LIN), 4, BEYOND | 0x67);
      return s.port.translate(LIN, 1, false, false);
    },
  },
  {
    name: 'empty bus: a guest PDE naming a table beyond memory (paging-structure read mid-entry)',
    run: (s) => {
      const t = buildGuest(s.vm.mem, '4level', LIN, DATA);
      enterPaging(s.port, '4level', t.cr3);
      s.vm.mem.writeU(t.tables[2] + (Math.floor(LIN / 2 ** 21) % 512) * 8, 4, BEYOND | 0x27);
      return s.port.translate(LIN, 0, false, false);
    },
  },
];

describe('nested: a debugger probe during an EPT exit does not disturb the access being served', () => {
  for (const sc of scenarios) {
    it(`${sc.name}: the same exits, qualifications and guest-linear addresses with and without probes`, () => {
      const plain = nestedVm({ memoryBytes: MEM });
      const a = record(plain, false);
      const pa = sc.run(plain);
      const probed = nestedVm({ memoryBytes: MEM });
      const b = record(probed, true);
      const pb = sc.run(probed);
      assert.ok(a.seen.length > 0, 'the scenario has exits');
      assert.deepEqual(b.seen, a.seen);
      assert.deepEqual(b.exits, a.exits);
      assert.equal(pb, pa, 'the same machine address (probes allocate nothing)');
      assert.equal(probed.instance.vmm.stats.emptyBusExits, plain.instance.vmm.stats.emptyBusExits, 'an 8-byte entry is one access even when probed mid-read');
      // Every reported linear address is the access's (or absent for a PDPTE load).
      for (const e of b.seen) assert.ok(e.gva === undefined || e.gva === BigInt(LIN) || e.gva === BigInt(LIN32), `gva 0x${e.gva?.toString(16)}`);
    });
  }

  it('the probe itself sees the EPT as each exit left it (the event follows the resolution)', () => {
    const s = nestedVm({ memoryBytes: MEM });
    const t = buildGuest(s.vm.mem, '4level', LIN, DATA);
    enterPaging(s.port, '4level', t.cr3);
    const outcomes: boolean[] = [];
    s.vm.bus.on('ept-violation', () => outcomes.push(s.port.walk(LIN, 'read', false, { setAccessedDirty: false }).ok));
    s.port.translate(LIN, 0, false, false);
    // Tables are mapped one per exit: the probe's 2-D walk fails until the last one.
    assert.deepEqual(outcomes, [false, false, false, false, true]);
  });
});

describe('nested: gpas beyond the VM\'s memory (empty bus) are exact EPT violations', () => {
  // A 4-level guest whose leaf for LIN names BEYOND, tables already mapped in the EPT.
  function emptyBusGuest(leafLo: number, leafHi = 0, efer = 0, accessedDirty = false): NestedSetup {
    const s = nestedVm({ memoryBytes: MEM, modeOptions: { nested: { accessedDirty } } });
    const t = buildGuest(s.vm.mem, '4level', LIN, DATA);
    const k = controlsFor('4level');
    s.port.setControl(k.cr0, t.cr3, k.cr4, k.efer | efer);
    s.port.translate(LIN, 0, false, false);
    s.vm.mem.writeU(pteOf(t.tables, LIN), 4, BEYOND | leafLo);
    s.vm.mem.writeU(pteOf(t.tables, LIN) + 4, 4, leafHi);
    s.machine.hostTlb.flushVpid(undefined);
    return s;
  }

  const finals: { name: string; access: 0 | 1 | 2; user: boolean; lo: number; hi?: number; efer?: number; q: number }[] = [
    { name: 'user read of a U/W page', access: 0, user: true, lo: 0x67, q: R | LV | FIN | US | RW },
    { name: 'supervisor write of a U/W page', access: 1, user: false, lo: 0x67, q: W | LV | FIN | US | RW },
    { name: 'user fetch of a U/W page', access: 2, user: true, lo: 0x67, q: F | LV | FIN | US | RW },
    { name: 'supervisor read of a supervisor read-only page', access: 0, user: false, lo: 0x61, q: R | LV | FIN },
    { name: 'read of an XD page (EFER.NXE)', access: 0, user: true, lo: 0x67, hi: 0x80000000, efer: 0x800, q: R | LV | FIN | US | RW | XD },
  ];
  for (const c of finals) {
    it(`final translation, ${c.name}: exit 48, qualification 0x${c.q.toString(16)}, an ept-violation event with the resolution`, () => {
      const s = emptyBusGuest(c.lo, c.hi, c.efer);
      const { seen, exits } = record(s, false);
      for (let n = 0; n < 3; n++) {
        const pa = s.port.translate(LIN, c.access, c.user, false);
        assert.ok(pa >= s.machine.memory.size, 'the hole: reads all ones, writes dropped');
      }
      assert.equal(exits.length, 3, 'no EPT entry is installed: every access exits');
      for (const x of exits) assert.deepEqual(x, { reason: 48, gl: BigInt(LIN), q: BigInt(c.q) });
      assert.equal(seen.length, 3);
      for (const e of seen) assert.deepEqual(e, { gpa: BigInt(BEYOND + (LIN % 4096)), gva: BigInt(LIN), qualification: BigInt(c.q), resolution: EMPTY_BUS_RESOLUTION });
      assert.equal(s.instance.vmm.stats.emptyBusExits, 3);
      assert.equal(s.monitor.lastExit!.qualification, BigInt(c.q));
    });
  }

  for (const ad of [false, true]) {
    it(`a guest table beyond memory, EPT A/D ${ad ? 'on (a paging-structure access counts as a write: bits 0 and 1)' : 'off'}: one exit per entry read`, () => {
      const s = nestedVm({ memoryBytes: MEM, modeOptions: { nested: { accessedDirty: ad } } });
      const t = buildGuest(s.vm.mem, '4level', LIN, DATA);
      enterPaging(s.port, '4level', t.cr3);
      s.port.translate(LIN + 4096, 0, false, false);
      const pde = t.tables[2] + (Math.floor(LIN / 2 ** 21) % 512) * 8;
      s.vm.mem.writeU(pde, 4, BEYOND | 0x27);
      s.machine.hostTlb.flushVpid(undefined);
      const { seen } = record(s, false);
      // The all-ones entry has reserved bits set: the guest gets its #PF (RSVD), as natively.
      assert.equal(s.port.translate(LIN, 0, false, false), -1);
      assert.equal(s.port.fault!.errorCode & 8, 8);
      const q = (ad ? R | W : R) | LV;
      assert.deepEqual(seen, [{ gpa: BigInt(BEYOND + (Math.floor(LIN / 4096) % 512) * 8), gva: BigInt(LIN), qualification: BigInt(q), resolution: EMPTY_BUS_RESOLUTION }]);
    });
  }

  it('PAE: CR3 beyond memory — the PDPTE load exits with no guest-linear address (bit 7 clear), and the load fails (#GP)', () => {
    const s = nestedVm({ memoryBytes: MEM });
    const { seen, exits } = record(s, false);
    const k = controlsFor('pae');
    s.port.setControl(k.cr0, BEYOND, k.cr4, k.efer);
    assert.equal(s.port.loadPdptes(), false);
    assert.deepEqual(seen, [{ gpa: BigInt(BEYOND), gva: undefined, qualification: BigInt(R), resolution: EMPTY_BUS_RESOLUTION }]);
    assert.deepEqual(exits, [{ reason: 48, gl: undefined, q: BigInt(R) }]);
  });
});

describe('nested: an EPT misconfiguration reports no guest-linear address', () => {
  it('exit 49: guest-physical address set, guest-linear address and qualification empty (SDM §28.2.1)', () => {
    const s = nestedVm();
    const t = buildGuest(s.vm.mem, '4level', LIN, DATA);
    enterPaging(s.port, '4level', t.cr3);
    s.port.translate(LIN, 0, false, false);
    s.machine.hostTlb.flushVpid(undefined);
    const a = s.instance.vmm.ept.entryAddress(DATA, 1)!;
    const mem = s.machine.memory.bytes;
    mem.write32(a, ((mem.read32(a) & ~7) | 2) >>> 0);
    const { exits } = record(s, false);
    assert.throws(() => s.port.translate(LIN, 0, false, false), (e) => e === FAULT);
    assert.deepEqual(exits, [{ reason: 49, gl: undefined, q: 0n }]);
    const x = s.monitor.lastExit!;
    assert.equal(x.guestLinear, undefined);
    assert.equal(x.guestPhysical, BigInt(DATA + (LIN % 4096)));
  });
});
