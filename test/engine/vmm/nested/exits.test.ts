// EPT violations and misconfigurations as VM exits: the SDM qualification bit by bit for each
// kind of access (read / write / fetch; final translation vs guest paging-structure access;
// PDPTE load; the EPT rights; the guest's U/S, R/W, XD), lazy mapping on first touch, the
// VMM's permission API and its policy hook, and misconfigurations ending the VM.
import { strict as assert } from 'node:assert';
import { FAULT } from '../../../../src/engine/cpu/cpu';
import type { EngineEvent } from '../../../../src/engine/events';
import { buildGuest, controlsFor, enterPaging, nestedVm } from './nestedTestUtil';
import type { NestedSetup } from './nestedTestUtil';
import { EPT_A, EPT_D, EPT_LARGE } from '../../../../src/engine/vmm/nested';

const LIN = 2 ** 39 + 2 * 2 ** 30 + 3 * 2 ** 21 + 4 * 4096;
const DATA = 0x205000;
const R = 1, W = 2, F = 4, PR = 8, PW = 16, PX = 32, LV = 0x80, FIN = 0x100, US = 0x200, RW = 0x400, XD = 0x800;

function violations(s: NestedSetup): EngineEvent[] {
  const out: EngineEvent[] = [];
  s.vm.bus.on('ept-violation', (e) => out.push(e));
  return out;
}

function quals(evs: EngineEvent[]): number[] {
  return evs.map((e) => (e.kind === 'ept-violation' ? Number(e.qualification) : -1));
}

/** A 4-level guest whose EPT is fully populated by one read, then TLB-flushed. */
function warm(opts: Parameters<typeof nestedVm>[0] = {}, build: Parameters<typeof buildGuest>[4] = {}): NestedSetup & { tables: number[] } {
  const s = nestedVm(opts);
  const t = buildGuest(s.vm.mem, '4level', LIN, DATA, build);
  enterPaging(s.port, '4level', t.cr3);
  s.port.translate(LIN, 0, false, false);
  s.machine.hostTlb.flushVpid(undefined);
  return Object.assign(s, { tables: t.tables });
}

describe('nested: EPT violations', () => {
  it('first touch: one violation per guest table page (paging-structure reads) then the final gpa; each mapped lazily', () => {
    const s = nestedVm();
    const t = buildGuest(s.vm.mem, '4level', LIN, DATA);
    enterPaging(s.port, '4level', t.cr3);
    assert.equal(s.instance.vmm.ept.leaves().length, 0, 'nothing is mapped up front');
    const evs = violations(s);
    const exits: EngineEvent[] = [];
    s.vm.bus.on('vm-exit', (e) => exits.push(e));
    s.port.translate(LIN, 0, true, false);
    assert.deepEqual(quals(evs), [R | LV, R | LV, R | LV, R | LV, R | LV | FIN | US | RW]);
    const gpas = evs.map((e) => (e.kind === 'ept-violation' ? Number(e.gpa) : -1));
    const idx = [39, 30, 21, 12].map((sh) => Math.floor(LIN / 2 ** sh) % 512);
    assert.deepEqual(gpas, [t.tables[0] + idx[0] * 8, t.tables[1] + idx[1] * 8, t.tables[2] + idx[2] * 8, t.tables[3] + idx[3] * 8, DATA + (LIN % 4096)]);
    for (const e of exits) {
      assert.ok(e.kind === 'vm-exit' && e.reason === 48 && e.guestLinear === BigInt(LIN));
    }
    assert.equal(s.monitor.exitCounts.get(48), 5);
    const st = s.instance.vmm.stats;
    assert.equal(st.lazyMaps, 5);
    assert.equal(st.lazyAllocations, 1, 'the table pages were backed by the writes that built them; the data page is new');
    assert.equal(s.instance.vmm.ept.leaves().length, 5);
    assert.ok(evs.every((e) => e.kind === 'ept-violation' && /mapped gpa page/.test(e.resolution)));
  });

  const finals: { name: string; access: 0 | 1 | 2; user: boolean; leaf: number; efer?: number; hi?: number; q: number }[] = [
    { name: 'user read of a U/W page', access: 0, user: true, leaf: 0x67, q: R | LV | FIN | US | RW },
    { name: 'user write', access: 1, user: true, leaf: 0x67, q: W | LV | FIN | US | RW },
    { name: 'user fetch', access: 2, user: true, leaf: 0x67, q: F | LV | FIN | US | RW },
    { name: 'supervisor read of a supervisor read-only page', access: 0, user: false, leaf: 0x61, q: R | LV | FIN },
    { name: 'read of an XD page (EFER.NXE)', access: 0, user: true, leaf: 0x67, efer: 0x800, hi: 0x80000000, q: R | LV | FIN | US | RW | XD },
  ];
  for (const c of finals) {
    it(`final translation, ${c.name}: qualification 0x${c.q.toString(16)}`, () => {
      const s = nestedVm();
      const t = buildGuest(s.vm.mem, '4level', LIN, DATA, { leafFlags: c.leaf });
      if (c.hi) s.vm.mem.writeU(t.tables[3] + (Math.floor(LIN / 4096) % 512) * 8 + 4, 4, c.hi);
      // Map the guest tables first (reads of another page in the same PT).
      const k = controlsFor('4level');
      s.port.setControl(k.cr0, t.cr3, k.cr4, k.efer | (c.efer ?? 0));
      s.vm.mem.writeU(t.tables[3] + 8 * 511, 4, 0x300000 | 0x67);
      s.port.translate(LIN - (LIN % 2 ** 21) + 511 * 4096, 0, false, false);
      const evs = violations(s);
      assert.ok(s.port.translate(LIN, c.access, c.user, false) >= 0);
      assert.deepEqual(quals(evs), [c.q]);
      assert.equal(s.monitor.lastExit!.guestPhysical, BigInt(DATA + (LIN % 4096)));
    });
  }

  it('paging off: linear = gpa, a final translation with U/S=1 R/W=1 (SDM: PG=0 is user, writable, executable)', () => {
    const s = nestedVm();
    const evs = violations(s);
    s.port.setControl(0x11, 0, 0, 0);
    assert.ok(s.port.translate(0x7123, 1, false, false) >= 0);
    assert.deepEqual(quals(evs), [W | LV | FIN | US | RW]);
    // Cached as a guest-physical mapping: the second access is a TLB hit.
    const hits = s.port.tlb.counters().hits;
    s.port.translate(0x7456, 0, false, false);
    assert.equal(s.port.tlb.counters().hits, hits + 1);
  });

  it('PAE PDPTE load: a paging-structure read with no guest-linear address (bit 7 clear)', () => {
    const s = nestedVm();
    const t = buildGuest(s.vm.mem, 'pae', 2 ** 30, DATA);
    const evs = violations(s);
    const k = controlsFor('pae');
    s.port.setControl(k.cr0, t.cr3, k.cr4, k.efer);
    assert.ok(s.port.loadPdptes());
    assert.deepEqual(quals(evs), [R]);
    assert.equal(s.monitor.lastExit!.guestLinear, undefined);
  });

  it('read-only EPT page, write: permission violation (EPT rights R-X) resolved by the VMM policy', () => {
    const s = warm();
    const vmm = s.instance.vmm;
    vmm.protect(DATA, { read: true, write: false, execute: true });
    const seen: string[] = [];
    vmm.protectionHandlers.push((v, m) => {
      seen.push(`${v.access} ${v.pagingStructure} 0x${v.gpa.toString(16)}`);
      m.unprotect(v.gpa);
      return { kind: 'retry' };
    });
    const evs = violations(s);
    assert.ok(s.port.translate(LIN, 0, true, false) >= 0, 'reads are allowed');
    assert.deepEqual(quals(evs), []);
    assert.ok(s.port.translate(LIN, 1, true, false) >= 0);
    assert.deepEqual(quals(evs), [W | PR | PX | LV | FIN | US | RW]);
    assert.deepEqual(seen, [`write false 0x${(DATA + (LIN % 4096)).toString(16)}`]);
    assert.equal(vmm.stats.protectionViolations, 1);
  });

  it('a read-only EPT page stays read-only for a supervisor write with CR0.WP=0 (the TLB caches it not-dirty)', () => {
    const s = warm();
    const vmm = s.instance.vmm;
    s.port.translate(LIN, 0, false, false); // a combined entry, readable
    vmm.protect(DATA, { read: true, write: false, execute: true });
    s.port.translate(LIN, 0, false, false);
    const k = controlsFor('4level');
    s.port.setControl(k.cr0 & ~0x10000, s.port.hw.control().cr3, k.cr4, k.efer);
    const evs = violations(s);
    vmm.protectionHandlers.push(() => ({ kind: 'stop', message: 'write watch hit' }));
    assert.throws(() => s.port.translate(LIN, 1, false, false), (e) => e === FAULT);
    assert.deepEqual(quals(evs), [W | PR | PX | LV | FIN | US | RW]);
    assert.equal(s.vm.vcpus[0].state, 'stopped');
    assert.match(s.vm.vcpus[0].stopReason, /write watch hit/);
  });

  it('no-execute EPT page, fetch: violation with EPT rights RW-', () => {
    const s = warm();
    s.instance.vmm.protect(DATA, { read: true, write: true, execute: false });
    s.instance.vmm.protectionHandlers.push((v, m) => (m.unprotect(v.gpa), { kind: 'retry' }));
    const evs = violations(s);
    assert.ok(s.port.translate(LIN, 2, true, false) >= 0);
    assert.deepEqual(quals(evs), [F | PR | PW | LV | FIN | US | RW]);
  });

  it('a permission violation no policy resolves ends the VM with the reason', () => {
    const s = warm();
    s.instance.vmm.protect(DATA, { read: true, write: false, execute: false });
    assert.throws(() => s.port.translate(LIN, 1, true, false), (e) => e === FAULT);
    assert.equal(s.vm.vcpus[0].stopKind, 'error');
    assert.match(s.vm.vcpus[0].stopReason, /which the VMM maps R--, and no policy resolved it/);
  });

  it('guest PT page read-only in EPT, EPT A/D off: only an A/D write-back violates (RD|WR, paging-structure)', () => {
    const s = warm({}, { accessed: false });
    const vmm = s.instance.vmm;
    const pt = s.tables[3];
    vmm.protect(pt, { read: true, write: false, execute: true });
    vmm.protectionHandlers.push((v, m) => (m.unprotect(v.gpa), { kind: 'retry' }));
    const evs = violations(s);
    // A already set by the warm-up walk: no write needed, no violation.
    s.port.translate(LIN, 0, false, false);
    assert.deepEqual(quals(evs), []);
    // Clear the PTE's A: the walk must write it back.
    const pte = pt + (Math.floor(LIN / 4096) % 512) * 8;
    s.vm.mem.writeU(pte, 4, s.vm.mem.readU(pte, 4) & ~0x60);
    vmm.protect(pt, { read: true, write: false, execute: true });
    s.port.translate(LIN, 0, false, false);
    assert.deepEqual(quals(evs), [R | W | PR | PX | LV]);
    assert.equal(Number(s.monitor.lastExit!.guestPhysical), pte);
    assert.equal(s.vm.mem.readU(pte, 4) & 0x20, 0x20, 'the retried walk set A');
  });

  it('EPT A/D on: every guest paging-structure access counts as a write; A in every EPT level, D only in the leaf', () => {
    const s = warm({ modeOptions: { nested: { accessedDirty: true } } });
    const vmm = s.instance.vmm;
    assert.equal(vmm.ept.eptp & 0x7fn, 0x5en, 'EPTP: WB, walk length 4, A/D enabled');
    s.port.translate(LIN, 1, false, false);
    const rec = s.port.lastWalk!;
    for (const w of [...rec.levels.map((l) => l.secondStage!), rec.finalSecondStage!]) {
      for (const l of w.levels) {
        const lo = Number(l.entryAfter & 0xffffffffn);
        assert.ok(lo & EPT_A, `${l.name} A`);
        assert.equal((lo & EPT_D) !== 0, l.leaf, `${l.name} D only in a leaf (guest table pages are written: D)`);
      }
    }
    const pt = s.tables[3];
    vmm.protect(pt, { read: true, write: false, execute: true });
    vmm.protectionHandlers.push((v, m) => (m.unprotect(v.gpa), { kind: 'retry' }));
    const evs = violations(s);
    s.port.translate(LIN, 0, false, false);
    assert.deepEqual(quals(evs), [R | W | PR | PX | LV]);
  });

  it('a gpa beyond the VM\'s memory reads all ones and drops writes, as natively (an exit the VMM emulates)', () => {
    const s = nestedVm({ memoryBytes: 16 * 2 ** 20 });
    s.port.setControl(0x11, 0, 0, 0);
    const pa = s.port.translate(32 * 2 ** 20, 0, false, false);
    assert.ok(pa >= s.machine.memory.size);
    assert.equal(s.machine.memory.bytes.read32(pa), 0xffffffff);
    assert.equal(s.instance.vmm.stats.emptyBusExits, 1);
  });
});

describe('nested: EPT misconfigurations end the VM', () => {
  const cases: { name: string; level: number; gpa?: number; large?: boolean; corrupt: (lo: number) => number; hi?: number; match: RegExp }[] = [
    { name: 'leaf XWR=010 (write-only)', level: 1, corrupt: (lo) => (lo & ~7) | 2, match: /XWR=010/ },
    { name: 'leaf XWR=110 (write+execute, not readable)', level: 1, corrupt: (lo) => (lo & ~7) | 6, match: /XWR=110/ },
    { name: 'leaf XWR=100 (execute-only, unsupported)', level: 1, corrupt: (lo) => (lo & ~7) | 4, match: /execute-only/ },
    { name: 'leaf memory type 2', level: 1, corrupt: (lo) => (lo & ~0x38) | (2 << 3), match: /memory type 2/ },
    { name: 'leaf memory type 3', level: 1, corrupt: (lo) => (lo & ~0x38) | (3 << 3), match: /memory type 3/ },
    { name: 'leaf memory type 7', level: 1, corrupt: (lo) => lo | (7 << 3), match: /memory type 7/ },
    { name: 'reserved bit 3 in a PML4E', level: 4, corrupt: (lo) => lo | 8, match: /EPT PML4E .*reserved bit 3/ },
    { name: 'reserved bit 7 in a PML4E (no 512 GiB pages)', level: 4, corrupt: (lo) => lo | 0x80, match: /reserved bit 7/ },
    { name: 'reserved bit 6 in a PDE referencing a table', level: 2, corrupt: (lo) => lo | 0x40, match: /EPT PDE .*reserved bit 6/ },
    { name: 'address bit 45 ≥ MAXPHYADDR in a PTE', level: 1, corrupt: (lo) => lo, hi: 1 << 13, match: /reserved bit 45/ },
    { name: 'bit 12 in a 2 MiB leaf', level: 2, large: true, corrupt: (lo) => lo | 0x1000, match: /EPT PDE .*reserved bit 12/ },
  ];
  for (const c of cases) {
    it(`${c.name}: exit 49, an ept-misconfig event, the VM ended with the reason`, () => {
      const s = warm(c.large ? { modeOptions: { nested: { eptPageSize: '2m' } } } : {});
      const vmm = s.instance.vmm;
      const gpa = DATA;
      const addr = vmm.ept.entryAddress(gpa, c.level)!;
      assert.ok(addr !== null);
      const bytes = s.machine.memory.bytes;
      if (c.large) assert.ok(bytes.read32(addr) & EPT_LARGE, 'a 2 MiB leaf');
      bytes.write32(addr, c.corrupt(bytes.read32(addr)) >>> 0);
      if (c.hi) bytes.write32(addr + 4, bytes.read32(addr + 4) | c.hi);
      assert.ok(s.instance.audit!().some((p) => /malformed/.test(p)), 'the audit sees it too');
      vmm.invept(1);
      const evs: EngineEvent[] = [];
      s.vm.bus.on('ept-misconfig', (e) => evs.push(e));
      assert.throws(() => s.port.translate(LIN, 0, true, false), (e) => e === FAULT);
      assert.equal(s.monitor.exitCounts.get(49), 1);
      assert.equal(evs.length, 1);
      assert.ok(evs[0].kind === 'ept-misconfig' && evs[0].level === c.level);
      assert.equal(s.vm.vcpus[0].stopKind, 'error');
      assert.match(s.vm.vcpus[0].stopReason, c.match);
      assert.match(s.vm.vcpus[0].stopReason, /EPT misconfiguration.*VMM bug/);
    });
  }

  it('ignored bits (8–11 with A/D off, 52–62, 63 suppress-#VE) are not misconfigurations', () => {
    const s = warm();
    const addr = s.instance.vmm.ept.entryAddress(DATA, 1)!;
    const bytes = s.machine.memory.bytes;
    bytes.write32(addr, bytes.read32(addr) | 0xf00);
    bytes.write32(addr + 4, bytes.read32(addr + 4) | 0xfff00000);
    s.instance.vmm.invept(1);
    assert.ok(s.port.translate(LIN, 0, true, false) >= 0);
  });
});
