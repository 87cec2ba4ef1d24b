// The memory scheduler as the machine wires it: reclamation-state events on every VM's bus, the
// scheduler's balloon targets reaching the guests' drivers (and swapping when a guest has none),
// blocked VMs, and the reclaim-at-once path when an allocation finds no free frame.
import * as assert from 'node:assert/strict';
import { startMachine } from '../../../../src/engine/machineRunner';
import type { MachineInput } from '../../../../src/engine/machineRunner';
import type { LoadedProgram } from '../../../../src/engine/runner';
import type { EngineEvent } from '../../../../src/engine/events';
import type { MemSchedConfig } from '../../../../src/engine/memory/overcommit/machineOvercommit';
import { auditMachine } from '../../../../src/engine/vmm/audit';
import { assembleExample } from '../../../support/runAsm';

const PAGE = 4096;

function machineOf(program: LoadedProgram, pages: number, memsched: Partial<MemSchedConfig>, vms = 3, mode: 'shadow' | 'nested' = 'shadow'): ReturnType<typeof startMachine> {
  const input: MachineInput = {
    memoryBytes: pages * PAGE, quantum: 5_000, maxSteps: 40_000_000, memsched,
    vms: Array.from({ length: vms }, (_, i) => ({ name: `vm${i + 1}`, mode, program, memoryBytes: 12 * 2 ** 20 })),
  };
  return startMachine(input);
}

function runToEnd(m: ReturnType<typeof startMachine>['machine'], audit = false): void {
  while (!m.stopped && m.icount < 40_000_000) {
    m.run(audit ? 20_000 : 1_000_000);
    if (audit) assert.deepEqual(auditMachine(m), []);
  }
}

describe('memory scheduler on the machine', function () {
  this.timeout(120_000);

  it('announces reclamation-state changes on every VM\'s bus, with the free percentage', () => {
    const { machine, vms } = machineOf(assembleExample('balloon.s', { SPIN: 800_000n }), 130, { balancePeriodS: 0.5, sharing: { enabled: false, scanPagesPerSecPerVm: 0, scanPagesPerSecTotal: 0 } });
    const seen = vms.map(() => [] as Extract<EngineEvent, { kind: 'reclaim-state' }>[]);
    vms.forEach((v, i) => v.vm.bus.on('reclaim-state', (e) => seen[i].push(e)));
    runToEnd(machine);
    assert.ok(seen[0].length > 0, 'at least one state change');
    for (const s of seen) assert.deepEqual(s.map((e) => [e.from, e.to]), seen[0].map((e) => [e.from, e.to]), 'every VM hears every change');
    const first = seen[0][0];
    assert.equal(first.from, 'high');
    assert.ok(first.freePercent < 4, `entered ${first.to} below 4% free: ${first.freePercent}`);
    assert.equal(machine.overcommit!.scheduler.states.entered[first.to] > 0, true);
  });

  it('sets balloon targets the guests\' drivers reach; a guest without a driver is swapped instead', () => {
    const withDriver = assembleExample('balloon.s', { SPIN: 3_000_000n });
    const { machine, vms } = machineOf(withDriver, 100, { balancePeriodS: 1, sharing: { enabled: false, scanPagesPerSecPerVm: 0, scanPagesPerSecTotal: 0 } }, 2);
    runToEnd(machine, true);
    const snap = machine.overcommit!.snapshot();
    const ballooned = snap.vms.reduce((n, v) => n + v.counters.ballooned, 0);
    assert.ok(ballooned > 0, `the drivers inflated: ${JSON.stringify(snap.vms.map((v) => v.counters))}`);
    for (const { vm } of vms) assert.equal(vm.devices.exitCode, 0);

    const noDriver = assembleExample('balloon.s', { SPIN: 3_000_000n, BALLOON: 0n });
    const b = machineOf(noDriver, 100, { balancePeriodS: 1, sharing: { enabled: false, scanPagesPerSecPerVm: 0, scanPagesPerSecTotal: 0 } }, 2);
    runToEnd(b.machine, true);
    const s2 = b.machine.overcommit!.snapshot();
    assert.equal(s2.vms.reduce((n, v) => n + v.counters.ballooned, 0), 0, 'no driver, nothing ballooned');
    assert.ok(s2.swap.swappedOut > 0, 'the hypervisor swapped instead');
    for (const v of s2.vms) assert.match(v.balloon?.whyNot ?? '', /no balloon driver/);
  });

  it('reclaims at once when an allocation finds machine memory exhausted (no rebalance due)', () => {
    const { machine, vms } = machineOf(assembleExample('demand-paging.s'), 60, { balancePeriodS: 3600, sharing: { enabled: false, scanPagesPerSecPerVm: 0, scanPagesPerSecTotal: 0 } }, 3, 'nested');
    runToEnd(machine, true);
    assert.ok(machine.overcommit!.emergencies > 0, 'allocations were saved by reclaiming at once');
    for (const { vm } of vms) assert.ok(vm.vcpus.every((c) => c.stopKind !== 'error'), vm.vcpus.map((c) => c.stopReason).join('; '));
  });

  it('a VM the machine cannot back even after reclaiming is stopped with the reason; the machine runs on', () => {
    // No scheduler (memsched false: nothing reclaims) on a machine too small for three VMs.
    const input: MachineInput = {
      memoryBytes: 40 * PAGE, quantum: 5_000, maxSteps: 10_000_000, memsched: false,
      vms: ['a', 'b', 'c'].map((name) => ({ name, mode: 'shadow' as const, program: assembleExample('demand-paging.s'), memoryBytes: 12 * 2 ** 20 })),
    };
    const { machine, vms } = startMachine(input);
    assert.doesNotThrow(() => runToEnd(machine));
    const failed = vms.filter(({ vm }) => vm.vcpus.some((c) => c.stopKind === 'error'));
    assert.ok(failed.length > 0, 'some VM could not be backed');
    for (const { vm } of failed) assert.match(vm.vcpus[0].stopReason, /^machine memory exhausted .* VM \d+: nothing left to reclaim on a machine of 40 frames$/);
    assert.ok(machine.stopped, 'every VM ended');
  });

  it('a blocked VM yields to the others and runs when it is alone', () => {
    const { machine, vms } = machineOf(assembleExample('balloon.s', { SPIN: 200_000n }), 4096, {}, 2);
    const [a, b] = vms.map((v) => v.vm);
    machine.setBlocked(a, true);
    machine.run(200_000);
    assert.equal(a.icount, 0, 'blocked while b can run');
    assert.ok(b.icount > 0);
    runToEnd(machine);
    assert.ok(b.stopped && a.stopped, 'once b is done, a runs alone to the end');
    assert.equal(a.devices.exitCode, 0);
  });
});
