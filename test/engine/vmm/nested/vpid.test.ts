// The host TLB under nested paging: combined entries tagged by VPID, so two VMs switching on
// one host CPU keep their entries (and without VPID every exit flushes them); INVEPT removes
// every mapping derived from an EPT, INVVPID what its type says; the audit catches a VMM that
// changes the EPT without INVEPT, or maps a frame it does not own.
import { strict as assert } from 'node:assert';
import { join, resolve } from 'node:path';
import { assemble } from '../../../../src/engine/isa/assembler';
import { nodeFileProvider } from '../../../../src/cli/nodeFileProvider';
import { Machine } from '../../../../src/engine/machine/machine';
import { createVirtualVm } from '../../../../src/engine/vmm/virtualVm';
import type { NestedInstance } from '../../../../src/engine/vmm/nested';
import type { EngineEvent } from '../../../../src/engine/events';
import { runProgram } from '../../../../src/engine/runner';
import { buildGuest, enterPaging, nestedVm } from './nestedTestUtil';

const EXAMPLES = resolve(__dirname, '../../../../../examples');

function program(file: string): ReturnType<typeof assemble> {
  const r = assemble(join(EXAMPLES, file), nodeFileProvider(), { defines: { PAGING: 64n } });
  assert.ok(r.ok);
  return r;
}

function twoVms(vpid: boolean): { machine: Machine; vms: ReturnType<typeof createVirtualVm>[] } {
  const machine = new Machine({ memoryBytes: 256 * 2 ** 20, quantum: 3_000 });
  const vms = ['two-processes.s', 'demand-paging.s'].map((f) => {
    const v = createVirtualVm(machine, 'nested', { modeOptions: { nested: { vpid } } });
    const p = program(f);
    v.vm.load(p.segments, p.entry ?? 0);
    return v;
  });
  return { machine, vms };
}

describe('nested: VPID and the shared host TLB', () => {
  it('two VMs on one host: switching keeps both VMs\' entries (distinct VPIDs); both end as natively, isolated, audit clean', () => {
    const { machine, vms } = twoVms(true);
    const vpids = vms.map((v) => v.monitor.controls.vpid);
    assert.ok(vpids[0] > 0 && vpids[1] > 0 && vpids[0] !== vpids[1]);
    let sawBoth = 0;
    while (!machine.stopped) {
      machine.run(3_000);
      const tags = new Set(machine.hostTlb.entries().map((e) => e.vpid));
      if (tags.has(vpids[0]) && tags.has(vpids[1])) sawBoth++;
    }
    assert.ok(sawBoth > 3, 'after a switch, the other VM\'s entries are still there');
    assert.ok((vms[0].monitor.exitCounts.get(1) ?? 0) > 0, 'the host timer preempted VM 1 (exit 1)');
    for (const [i, f] of ['two-processes.s', 'demand-paging.s'].entries()) {
      const native = runProgram(program(f), { maxSteps: 5_000_000 });
      assert.equal(vms[i].vm.devices.console, native.console);
      assert.deepEqual(vms[i].instance.audit!(), []);
    }
    // Isolation: no frame is mapped by both EPTs.
    const frames = vms.map((v) => new Set((v.instance as NestedInstance).vmm.ept.leaves().map((l) => l.mpa)));
    for (const f of frames[0]) assert.ok(!frames[1].has(f));
  });

  it('without VPID every exit flushes: entries carry tag 0, none survive a switch, and the TLB misses more', () => {
    const on = twoVms(true);
    const off = twoVms(false);
    let survived = 0;
    while (!off.machine.stopped) {
      off.machine.run(3_000);
      // A switch is an external-interrupt exit: with VPID off it left nothing behind.
      if (off.vms.every((v) => !v.vm.stopped)) survived += off.machine.hostTlb.validEntries;
      assert.ok(off.machine.hostTlb.entries().every((e) => e.vpid === 0));
    }
    while (!on.machine.stopped) on.machine.run(3_000);
    assert.equal(survived, 0);
    assert.equal(off.vms[0].monitor.controls.enableVpid, false);
    const misses = (m: Machine): number => m.hostTlb.counters().misses;
    assert.ok(misses(off.machine) > 2 * misses(on.machine), `${misses(off.machine)} vs ${misses(on.machine)} misses`);
  });

  it('INVEPT single-context removes this VM\'s combined entries and walk caches only; all-context every nested VM\'s', () => {
    const machine = new Machine({ memoryBytes: 256 * 2 ** 20 });
    const a = nestedVm({ modeOptions: { nested: { walkCaches: true } } }, machine);
    const b = nestedVm({}, machine);
    const lin = 0x12345000;
    for (const s of [a, b]) {
      const t = buildGuest(s.vm.mem, '4level', lin, 0x205000);
      enterPaging(s.port, '4level', t.cr3);
      s.port.translate(lin, 0, false, false);
    }
    const count = (s: typeof a): number => machine.hostTlb.entries().filter((e) => e.vpid === s.port.hw.vpid).length;
    assert.equal(count(a), 1);
    assert.equal(count(b), 1);
    assert.ok(a.instance.vmm.caches!.size > 0);
    const evs: EngineEvent[] = [];
    a.vm.bus.on('invept', (e) => evs.push(e));
    const cached = a.instance.vmm.caches!.size;
    assert.equal(cached, 5 + 4, 'nested TLB: 4 guest table pages + the data page; EPT PSCs: PDPT, PD, and 2 PTs');
    assert.equal(a.instance.vmm.invept(1), 1 + cached);
    assert.equal(count(a), 0);
    assert.equal(count(b), 1);
    assert.equal(a.instance.vmm.caches!.size, 0);
    assert.ok(evs[0].kind === 'invept' && evs[0].type === 1 && evs[0].eptp === a.instance.vmm.ept.eptp);
    a.port.translate(lin, 0, false, false);
    a.instance.vmm.invept(2);
    assert.equal(count(a) + count(b), 0);
  });

  it('INVVPID types 0–3: one address (all PCIDs, globals too) / one VPID / all but VPID 0 / one VPID keeping globals', () => {
    const machine = new Machine({ memoryBytes: 256 * 2 ** 20 });
    const a = nestedVm({}, machine);
    const b = nestedVm({}, machine);
    const tlb = machine.hostTlb;
    const fill = (): void => {
      tlb.flushVpid(undefined);
      for (const s of [a, b]) {
        const v = s.port.hw.vpid;
        tlb.insert(0x1000, 4096, 0x100000, { write: true, user: true, execute: true }, false, true, 1, v);
        tlb.insert(0x1000, 4096, 0x100000, { write: true, user: true, execute: true }, false, true, 2, v);
        tlb.insert(0x2000, 4096, 0x101000, { write: true, user: true, execute: true }, true, true, 1, v);
      }
    };
    const left = (s: typeof a): number => tlb.entries().filter((e) => e.vpid === s.port.hw.vpid).length;
    const vmm = a.instance.vmm;
    fill();
    assert.equal(vmm.invvpid(0, a.port.hw.vpid, 0x1000), 2);
    assert.deepEqual([left(a), left(b)], [1, 3]);
    fill();
    assert.equal(vmm.invvpid(1, a.port.hw.vpid), 3);
    assert.deepEqual([left(a), left(b)], [0, 3]);
    fill();
    assert.equal(vmm.invvpid(2, 0), 6);
    assert.deepEqual([left(a), left(b)], [0, 0]);
    fill();
    assert.equal(vmm.invvpid(3, a.port.hw.vpid), 2);
    assert.deepEqual([left(a), left(b)], [1, 3]);
    assert.equal(vmm.invvpid(1, 0), null, 'VPID 0 is an invalid operand for types 0, 1, 3');
  });

  it('the audit catches an EPT change without INVEPT, and a frame the VM does not own', () => {
    const machine = new Machine({ memoryBytes: 256 * 2 ** 20 });
    const s = nestedVm({}, machine);
    const other = nestedVm({}, machine);
    const lin = 0x12345000;
    const t = buildGuest(s.vm.mem, '4level', lin, 0x205000);
    enterPaging(s.port, '4level', t.cr3);
    s.port.translate(lin, 1, false, false);
    assert.deepEqual(s.instance.audit!(), []);
    // The VMM write-protects the page but "forgets" INVEPT: the cached writable entry is stale.
    s.instance.vmm.ept.setRights(0x205000, { read: true, write: false, execute: true });
    assert.ok(s.instance.audit!().some((p) => /read-only \(INVEPT missing\)/.test(p)), s.instance.audit!().join('\n'));
    s.instance.vmm.invept(1);
    assert.deepEqual(s.instance.audit!(), []);
    // Map another VM's frame into this EPT.
    other.vm.mem.write8(0x5000, 1);
    const foreign = other.instance.vmm.ctx.p2m.lookup(5);
    s.instance.vmm.ept.map(0x300000, foreign * 4096, 1, { read: true, write: true, execute: true });
    assert.ok(s.instance.audit!().some((p) => /owned by 2, not VM 1|not VM/.test(p)));
  });
});
