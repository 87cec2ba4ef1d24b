// The PV examples, and every kernel example rebuilt with PV=1, run in paravirt mode: their
// expectation blocks hold, their console equals native 4-level paging's (except where the
// timer's interleaving depends on the kernel's own instruction count), every VMCALL exit is
// a hypercall, and the MMU audit is clean throughout the run.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { assemble } from '../../../../src/engine/isa/assembler';
import { runProgram } from '../../../../src/engine/runner';
import { nodeFileProvider } from '../../../../src/cli/nodeFileProvider';
import { Machine } from '../../../../src/engine/machine/machine';
import { createVirtualVm } from '../../../../src/engine/vmm/virtualVm';
import { ExitReason } from '../../../../src/engine/vmm/exitReasons';
import type { ParavirtInstance } from '../../../../src/engine/vmm/paravirt/paravirtMode';
import { checkRun, parseExpectations } from '../../../examples/expectations';

const EXAMPLES = resolve(__dirname, '../../../../../examples');
const MAX_STEPS = 5_000_000;
const PV = { label: 'PV=1', defines: { PV: 1n } };

function build(file: string, defines: Record<string, bigint>): ReturnType<typeof assemble> {
  const r = assemble(join(EXAMPLES, file), nodeFileProvider(), { defines });
  assert.ok(r.ok, `${file} does not assemble: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r;
}

/** Runs in paravirt mode on its own machine, auditing every `slice` instructions. */
function runAudited(file: string, slice = 5000): { audits: number; inst: ParavirtInstance; vmcalls: number; hypercalls: number; console: string } {
  const program = build(file, PV.defines);
  const machine = new Machine({ memoryBytes: 128 * 1024 * 1024 });
  const vv = createVirtualVm(machine, 'paravirt', {});
  const inst = vv.instance as ParavirtInstance;
  vv.vm.load(program.segments, program.entry ?? 0);
  let audits = 0;
  while (!vv.vm.stopped && vv.vm.icount < MAX_STEPS) {
    vv.vm.run(slice);
    assert.deepEqual(inst.audit!(), [], `${file}: audit after ${vv.vm.icount} instructions`);
    audits++;
  }
  vv.vm.devices.flushLine();
  return { audits, inst, vmcalls: vv.monitor.exitCounts.get(ExitReason.VMCALL) ?? 0, hypercalls: inst.hypercalls.counts.calls, console: vv.vm.devices.console };
}

const PV_EXAMPLES = ['pv-hello.s', 'pv-rejected.s'];
const KERNEL_EXAMPLES = ['hello.s', 'two-processes.s', 'demand-paging.s', 'segfault.s', 'map-unmap.s', 'sloppy-tlb.s'];
/** The timer preempts after a fixed number of instructions, and the PV kernel runs different code. */
const TIMING_DEPENDENT = new Set(['two-processes.s']);

describe('paravirt examples', () => {
  for (const file of [...PV_EXAMPLES, ...KERNEL_EXAMPLES]) {
    const source = readFileSync(join(EXAMPLES, file), 'utf8');

    it(`${file} [PV=1, paravirt] meets its expectations`, () => {
      const s = runProgram(build(file, PV.defines), { mode: 'paravirt', maxSteps: MAX_STEPS });
      const problems = checkRun(parseExpectations(source, PV, 'paravirt')!, s);
      assert.deepEqual(problems, [], `${file}:\n  ${problems.join('\n  ')}\n--- console ---\n${s.console}`);
      assert.equal(s.faults.hiddenFaults, 0, 'direct paging has no hidden faults');
      if (KERNEL_EXAMPLES.includes(file) && !TIMING_DEPENDENT.has(file)) {
        const native = runProgram(build(file, {}), { maxSteps: MAX_STEPS });
        assert.equal(s.console, native.console, `${file}: the PV kernel's console differs from native 4-level paging`);
      }
    });

    it(`${file} [PV=1, paravirt]: audit clean throughout; every VMCALL exit is one hypercall`, () => {
      const r = runAudited(file);
      assert.ok(r.audits > 1);
      assert.equal(r.vmcalls, r.hypercalls);
      assert.ok(r.hypercalls >= 8, `only ${r.hypercalls} hypercalls`);
      assert.equal(r.inst.ports[0].discardedWrites, 0);
    });
  }

  it('pv-rejected: each refused request is a hypercall event naming the rule', () => {
    const rejected: string[] = [];
    runProgram(build('pv-rejected.s', {}), { mode: 'paravirt', trace: (e) => { if (e.kind === 'hypercall' && e.rejected) rejected.push(e.rejected); } });
    assert.equal(rejected.length, 5);
    // Xen's numbers: get_page_from_l1e's could_not_pin (-EBUSY) for both L1 refusals; -EINVAL
    // for a disallowed flag, a second pin, and a type conflict in new_guest_cr3.
    const rules = [/^EBUSY: .*a page table may be mapped read-only only/, /^EBUSY: .*belongs to the hypervisor/, /^EINVAL: .*PS \(bit 7\)/, /^EINVAL: .*already pinned/, /^EINVAL: .*needs an L4 table.*L1 page table .*cannot also be an L4/];
    rules.forEach((re, i) => assert.match(rejected[i], re));
  });

  it('the PV kernel cannot run natively (vmcall is #UD there) and PV=1 needs PAGING=64', () => {
    const s = runProgram(build('pv-hello.s', {}), { maxSteps: MAX_STEPS });
    assert.equal(s.exit.status, 1);
    const r = assemble(join(EXAMPLES, 'hello.s'), nodeFileProvider(), { defines: { PV: 1n, PAGING: 32n } });
    assert.ok(!r.ok && r.diagnostics.some((d) => /PV=1 .* needs PAGING=64/.test(d.message)));
  });
});
