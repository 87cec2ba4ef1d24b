// The memory scheduler on a real machine, differentially: three copies of an example run on a
// machine with less memory than they touch, under the full machinery (rebalances, balloon
// targets, hypervisor swapping, the sharing scanner at a high rate, working-set sampling), with
// the MMU audit and the share table's audit every few thousand instructions. Each VM's console
// and exit must equal the example's native run: reclamation is invisible to the guest.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMachine, wantsMemsched } from '../../../../src/engine/machineRunner';
import type { MachineInput } from '../../../../src/engine/machineRunner';
import { runProgram } from '../../../../src/engine/runner';
import type { LoadedProgram } from '../../../../src/engine/runner';
import { auditMachine } from '../../../../src/engine/vmm/audit';
import type { VirtualMode } from '../../../../src/engine/vmm/virtualVm';
import { assembleExample, EXAMPLES } from '../../../support/runAsm';
import { parseModes } from '../../../examples/expectations';
import type { MemSchedConfig } from '../../../../src/engine/memory/overcommit/machineOvercommit';

const PAGE = 4096;
const MAX_STEPS = 12_000_000;
const AUDIT_EVERY = 5_000;

const FAST: Partial<MemSchedConfig> = {
  balancePeriodS: 0.5,
  samplePeriodS: 1,
  samplePages: 20,
  sharing: { enabled: true, scanPagesPerSecPerVm: 2_000, scanPagesPerSecTotal: 6_000 },
};

interface Case {
  file: string;
  defines?: Record<string, bigint>;
  /** Machine memory as a fraction of what the three VMs touch unpressured. */
  squeeze: number;
}

const CASES: Case[] = [
  { file: 'demand-paging.s', squeeze: 0.6 },
  { file: 'two-processes.s', squeeze: 0.6 },
  { file: 'map-unmap.s', squeeze: 0.6 },
  { file: 'guest-swap.s', squeeze: 0.7 },
  { file: 'balloon.s', squeeze: 0.6, defines: { SPIN: 600_000n } },
];

function input(program: LoadedProgram, mode: VirtualMode, machinePages: number, memsched: Partial<MemSchedConfig> | false): MachineInput {
  return {
    memoryBytes: machinePages * PAGE,
    quantum: 3_000,
    maxSteps: MAX_STEPS,
    memsched,
    vms: ['a', 'b', 'c'].map((name) => ({ name, mode, program, memoryBytes: 12 * 2 ** 20 })),
  };
}

/**
 * Machine frames for the squeezed run: `squeeze` of what the three VMs hold at the end of a run
 * with room to spare, but never less than what nothing can reclaim (guest page tables the shadow
 * MMU traces, shadow pages, EPT tables — a cache KVM's shrinker could zap, which this VMM does
 * not) plus some room: below that the machine is simply too small and the run ends with "machine
 * memory exhausted".
 */
function squeezedPages(program: LoadedProgram, mode: VirtualMode, squeeze: number): number {
  const { machine } = startMachine(input(program, mode, 64 * 256, false));
  while (!machine.stopped && machine.icount < MAX_STEPS) machine.run(1_000_000);
  let fixed = 0;
  for (const [, c] of machine.memory.frames.census().byOwner) fixed += c['guest-pt'] + c['shadow-pt'] + c.ept + c.vmm;
  const used = machine.memory.frames.total - machine.memory.frames.free;
  return Math.max(Math.floor(used * squeeze), Math.ceil(fixed * 1.25) + 8);
}

describe('overcommitted machine: three VMs on less memory than they touch, against native', function () {
  this.timeout(300_000);
  for (const c of CASES) {
    const source = readFileSync(join(EXAMPLES, c.file), 'utf8');
    const modes = parseModes(source).filter((m): m is 'shadow' | 'nested' => m === 'shadow' || m === 'nested');
    for (const mode of modes) {
      it(`${c.file} in ${mode} mode: consoles and exits equal native's, audits clean, memory reclaimed`, () => {
        const program = assembleExample(c.file, c.defines);
        const native = runProgram(program, { mode: 'native', maxSteps: MAX_STEPS });
        assert.ok(native.exit.ok, `native run: ${native.exit.message}`);
        const pages = squeezedPages(program, mode, c.squeeze);
        const { machine, vms } = startMachine(input(program, mode, pages, FAST));
        const oc = machine.overcommit!;
        assert.ok(oc, 'the machine has a memory scheduler');
        let violations: string[] = [];
        while (!machine.stopped && machine.icount < MAX_STEPS && violations.length === 0) {
          machine.run(AUDIT_EVERY);
          violations = [...auditMachine(machine), ...(oc.scanner?.audit() ?? [])];
        }
        assert.deepEqual(violations, [], `audit after ${machine.icount} instructions`);
        for (const { vm, name } of vms) {
          vm.devices.flushLine();
          assert.equal(vm.devices.console, native.console, `${name}'s console`);
          assert.equal(vm.devices.exitCode ?? null, native.exit.status, `${name}'s exit status`);
        }
        const snap = oc.snapshot();
        const reclaimed = snap.swap.swappedOut + snap.swap.sharedInstead + (snap.sharing?.pagesSharing ?? 0) + snap.vms.reduce((n, v) => n + v.counters.ballooned, 0);
        assert.ok(reclaimed > 0, `something was reclaimed: ${JSON.stringify(snap.swap)}`);
        assert.ok(snap.rebalances > 0, 'the scheduler rebalanced');
        assert.equal(snap.vms.length, 3);
      });
    }
  }
});

// Reclaiming at once on exhaustion must not undo the fault it serves. In nested mode one access
// can need five gpas resolved in turn (four guest tables and the page); when each resolution
// reclaimed from the faulting VM first, two of them could evict each other until the VMM gave
// up ("EPT violation … still unresolved"), at some seeds. Pages just touched are now spared while
// any VM has another page to give (victims.ts, machineOvercommit.reclaimNow).
describe('reclaim at once never livelocks a fault, whatever the victims', function () {
  this.timeout(300_000);
  for (const file of ['two-processes.s', 'map-unmap.s']) {
    for (const mode of ['nested', 'shadow'] as const) {
      it(`${file} in ${mode} mode, seeds 1-8: every VM ends as natively`, () => {
        const program = assembleExample(file);
        const native = runProgram(program, { mode: 'native', maxSteps: MAX_STEPS });
        const pages = squeezedPages(program, mode, 0.6);
        for (let seed = 1; seed <= 8; seed++) {
          const { machine, vms } = startMachine(input(program, mode, pages, { ...FAST, seed }));
          while (!machine.stopped && machine.icount < MAX_STEPS) machine.run(100_000);
          for (const { vm, name } of vms) {
            vm.devices.flushLine();
            const error = vm.vcpus.find((c) => c.stopKind === 'error');
            assert.equal(error?.stopReason, undefined, `seed ${seed}: ${name}`);
            assert.equal(vm.devices.console, native.console, `seed ${seed}: ${name}'s console`);
          }
        }
      });
    }
  }
});

describe('memsched defaults', () => {
  const vms = [{ memoryBytes: 32 * 2 ** 20 }, { memoryBytes: 32 * 2 ** 20 }] as MachineInput['vms'];
  const table: [string, Partial<MachineInput>, boolean][] = [
    ['overcommitted, unset', { memoryBytes: 48 * 2 ** 20 }, true],
    ['not overcommitted, unset', { memoryBytes: 64 * 2 ** 20 }, false],
    ['overcommitted, false', { memoryBytes: 48 * 2 ** 20, memsched: false }, false],
    ['not overcommitted, set', { memoryBytes: 128 * 2 ** 20, memsched: {} }, true],
  ];
  for (const [label, partial, want] of table) {
    it(`${label} → ${want ? 'on' : 'off'}`, () => {
      assert.equal(wantsMemsched({ memoryBytes: 0, vms, ...partial }), want);
    });
  }
});
