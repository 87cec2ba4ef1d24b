// Breaking on memory overcommitment in a debug session: an overcommitted scenario (three VMs on
// a machine smaller than what they touch, the memory scheduler on by default) stops on the
// reclamation-state, swap-out and page-shared filters, with descriptions and exceptionInfo, and
// a bad memsched key in the scenario is a launch error saying what was expected.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { adapterPerTest, launchAndStop, ROOT, writeProgram } from './adapterHarness';
import { TOUCH_GUEST as TOUCH } from '../support/touchGuest';

const DEMAND = join(ROOT, 'examples/demand-paging.s');

function scenario(machine: Record<string, unknown>): string {
  const program = writeProgram('touch.s', TOUCH);
  const path = join(dirname(program), 'overcommit.vmem.json');
  writeFileSync(path, JSON.stringify({
    machine,
    vms: ['a', 'b', 'c'].map((name) => ({ name, program: 'touch.s', mode: name === 'b' ? 'nested' : 'shadow', memoryMiB: 12 })),
  }));
  return path;
}

describe('overcommit event stops in an overcommitted scenario', function () {
  this.timeout(30_000);
  const h = adapterPerTest();
  // 256 machine pages for three VMs touching 150 each: the scheduler is on (Σ 36 MiB > the machine's 1).
  const SMALL = { memoryMiB: 1, memsched: { balancePeriodS: 0.5, sharing: { scanPagesPerSecPerVm: 5000, scanPagesPerSecTotal: 15000 } } };

  const STOPS: [string, RegExp][] = [
    ['reclaim-state', /^Reclamation state high → (soft|hard|low) \(\d+\.\d % free\)/],
    ['swap-out', /^Swap out of guest page 0x[0-9a-f]+ to slot \d+ by the hypervisor \(victim: random\)/],
    ['page-shared', /^Guest page 0x[0-9a-f]+ shared copy-on-write as machine frame 0x[0-9a-f]+ \(\d+ references/],
  ];
  for (const [filter, description] of STOPS) {
    it(`stops on ${filter}`, async () => {
      const program = scenario(SMALL);
      const ev = await launchAndStop(h.dc, { program, cwd: dirname(program) }, () => h.dc.setExceptionBreakpointsRequest({ filters: [filter] }));
      assert.equal(ev.body.reason, 'exception');
      assert.match(ev.body.description ?? '', description);
      const info = await h.dc.exceptionInfoRequest({ threadId: ev.body.threadId! });
      assert.equal(info.body.exceptionId, filter);
    });
  }

  it('one program on a smaller machine (machineMemoryMiB) is swapped by the hypervisor', async () => {
    // 400 pages touched on a 256-page machine: one VM alone overcommits it.
    const program = writeProgram('touch400.s', TOUCH.replace('mov ecx, 150', 'mov ecx, 400'));
    const ev = await launchAndStop(h.dc, { program, mode: 'nested', memoryMiB: 4, machineMemoryMiB: 1 }, () => h.dc.setExceptionBreakpointsRequest({ filters: ['swap-out'] }));
    assert.equal(ev.body.reason, 'exception');
    assert.match(ev.body.description ?? '', STOPS[1][1]);
    const threads = (await h.dc.threadsRequest()).body.threads;
    assert.deepEqual(threads.map((t) => t.name), ['vm1/vcpu0']);
  });

  it('machineMemoryMiB is refused for a native program and for a scenario, saying why', async () => {
    await h.dc.initializeRequest();
    const program = writeProgram('touch.s', TOUCH);
    await assert.rejects(h.dc.launchRequest({ program, machineMemoryMiB: 1 } as never), /'machineMemoryMiB' puts the program in a VM on a machine of that size: set 'mode' to shadow, nested or paravirt/);
    await assert.rejects(h.dc.launchRequest({ program: scenario(SMALL), machineMemoryMiB: 1 } as never), /'machineMemoryMiB' does not apply to a scenario/);
    await assert.rejects(h.dc.launchRequest({ program, mode: 'shadow', machineMemoryMiB: 0.5 } as never), /'machineMemoryMiB': expected a whole number from 1 to 65536, got 0\.5/);
  });

  it('a bad memsched key is a launch error naming the key and what was expected', async () => {
    const program = scenario({ memoryMiB: 1, memsched: { policy: 'fair' } });
    await h.dc.initializeRequest();
    await assert.rejects(h.dc.launchRequest({ program } as never), /machine\.memsched\.policy: expected one of "shares", "idle-tax", "working-set", got "fair"/);
  });

  it('a VM admission control refuses is a launch error with the figures', async () => {
    const path = writeProgram('refused.vmem.json', '');
    writeFileSync(path, JSON.stringify({ machine: { memoryMiB: 1, memsched: true }, vms: [{ name: 'big', program: DEMAND, memoryMiB: 12, minMiB: 8 }] }));
    await h.dc.initializeRequest();
    await assert.rejects(h.dc.launchRequest({ program: path } as never), /big: not admitted: .*min \+ overhead = \d+ pages but only \d+ of 256 machine pages are unreserved/);
  });
});
