// What a continue pays for the debugger: an event filter whose condition reads nothing is folded
// (a constant false one is not listened to, so tlb-miss does not arm the MMU's per-miss hook),
// and the few snapshots a continue takes are filled in when a step back needs a short window.
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmemRuntime } from '../../src/debugAdapter/runtime/runtime';
import type { StopInfo } from '../../src/debugAdapter/runtime/runtime';
import { parseLaunchConfig } from '../../src/debugAdapter/runtime/launchConfig';
import { buildTarget } from '../../src/debugAdapter/runtime/target';
import { SNAPSHOT_EVERY } from '../../src/debugAdapter/runtime/timeTravel';
import { benchLoopSource } from '../../bench/loopProgram';

function loopRuntime(iterations: number): VmemRuntime {
  const program = join(mkdtempSync(join(tmpdir(), 'vmem-cost-')), 'loop.s');
  writeFileSync(program, benchLoopSource(iterations, false));
  const cfg = parseLaunchConfig({ program, stopOnEntry: true, maxSteps: 1e9 }, (p) => p, existsSync);
  return new VmemRuntime(buildTarget(cfg), cfg);
}

function next(rt: VmemRuntime, act: () => void): Promise<StopInfo | 'terminated'> {
  return new Promise((ok) => {
    const ended = (): void => ok('terminated');
    rt.once('stopped', (s: StopInfo) => {
      rt.off('terminated', ended);
      ok(s);
    });
    rt.once('terminated', ended);
    act();
  });
}

describe('continue cost: folded filter conditions', function () {
  this.timeout(30_000);
  const cases: { condition: string; listened: boolean; stops: boolean }[] = [
    { condition: '0', listened: false, stops: false },
    { condition: '1 == 2 && rip', listened: false, stops: false },
    { condition: '1', listened: true, stops: true },
    { condition: '2 > 1', listened: true, stops: true },
    { condition: 'rip == 0', listened: true, stops: false },
    { condition: 'gva != 0', listened: true, stops: true },
  ];
  for (const c of cases) {
    it(`tlb-miss if '${c.condition}': ${c.listened ? 'listened to' : 'not listened to'}, ${c.stops ? 'stops' : 'runs to the end'}`, async () => {
      const rt = loopRuntime(2_000);
      await next(rt, () => rt.start(true));
      const [r] = rt.setEventFilters([{ filterId: 'tlb-miss', condition: c.condition }]);
      assert.equal(r.verified, true);
      assert.equal(rt.target.vms[0].vm.bus.wants['tlb-miss'], c.listened);
      const s = await next(rt, () => rt.continue());
      if (c.stops) assert.equal(s !== 'terminated' && s.filterId, 'tlb-miss');
      else assert.equal(s, 'terminated');
      rt.dispose();
    });
  }

  it('a condition that fails (1/0) is still evaluated per event, and its error reported', async () => {
    const rt = loopRuntime(2_000);
    await next(rt, () => rt.start(true));
    rt.setEventFilters([{ filterId: 'tlb-miss', condition: '1/0' }]);
    assert.equal(rt.target.vms[0].vm.bus.wants['tlb-miss'], true);
    let out = '';
    rt.on('output', (t: string) => (out += t));
    assert.equal(await next(rt, () => rt.continue()), 'terminated');
    assert.match(out, /event filter 'tlb-miss'/);
  });
});

describe('continue cost: windows filled in for a step back', function () {
  this.timeout(60_000);

  it('steps back from far beyond the last snapshot to the previous instruction, state equal to a fresh run', async () => {
    const rt = loopRuntime(3_000_000);
    await next(rt, () => rt.start(true));
    // A breakpoint far into the run: the continue's periodic snapshots are few.
    const goal = 5 * SNAPSHOT_EVERY + 12_345;
    const fresh = loopRuntime(3_000_000);
    fresh.target.run(goal);
    const cpu = fresh.target.vms[0].vm.vcpus[0];
    rt.target.run(goal + 1);
    const before = rt.timeline.count;
    const s = await next(rt, () => rt.stepBack(1, true));
    assert.notEqual(s, 'terminated');
    assert.equal(rt.target.icount, goal);
    assert.deepEqual(rt.target.vms[0].vm.vcpus[0].snapshot(), cpu.snapshot());
    // The window single-stepped was short: a point was filled in within SNAPSHOT_EVERY of the goal.
    assert.ok(rt.timeline.count > before);
    rt.dispose();
    fresh.dispose();
  });
});
