// The scheduler with fake guests reproduces the SHAPES of Waldspurger's Figs. 7 and 8.
import { strict as assert } from 'node:assert';
import { FakeBalloon, FakeHost, FakeVm } from './fakeHost';

/** Fig. 7 in miniature: 720 usable pages, two 512-page VMs with equal shares; VM1 boots (touches
 *  all its memory) then idles, VM2 is active throughout. */
function fig7(tau: number, seconds: number): { host: FakeHost; idle: FakeVm; active: FakeVm; trace: { t: number; a1: number; a2: number }[] } {
  const host = new FakeHost(720);
  const idle = new FakeVm(host, 1, 512, 1000, 0, new FakeBalloon(16, 333));
  const active = new FakeVm(host, 2, 512, 1000, 0, new FakeBalloon(16, 333));
  host.addVm(idle);
  host.addVm(active);
  idle.activity = 'active';
  active.activity = 'idle';
  host.start({ policy: tau === 0 ? 'shares' : 'idle-tax', tau: tau === 0 ? 0.75 : tau });
  const trace: { t: number; a1: number; a2: number }[] = [];
  host.run(40); // VM1 boots alone, touching every page
  idle.activity = 'idle';
  active.activity = 'active';
  host.run(seconds, (t) => {
    if (t % 30 === 0) trace.push({ t, a1: idle.allocatedPages(), a2: active.allocatedPages() });
  });
  return { host, idle, active, trace };
}

describe('memory scheduler — Fig. 7 shape (idle memory tax)', () => {
  it('τ = 0: the idle and the active VM converge to equal allocations', () => {
    const { host, idle, active, trace } = fig7(0, 1500);
    const s = host.scheduler!;
    const t1 = s.targetOf(1)!;
    const t2 = s.targetOf(2)!;
    assert.ok(Math.abs(t1 - t2) <= 1, `targets ${t1} vs ${t2}`);
    const a1 = idle.allocatedPages();
    const a2 = active.allocatedPages();
    assert.ok(Math.abs(a1 - a2) <= 0.05 * 720, `allocations ${a1} vs ${a2} (${JSON.stringify(trace.slice(-5))})`);
    // Free memory above the high threshold at the end, so the state is back to high.
    assert.equal(s.state, 'high');
  });

  it('τ = 0.75: memory moves from the idle VM to the active one', () => {
    const { host, idle, active, trace } = fig7(0.75, 1500);
    const s = host.scheduler!;
    const t1 = s.targetOf(1)!;
    const t2 = s.targetOf(2)!;
    // Closed form: T2 = min(512, 4·T1), T1 + T2 = 720 − 55 (free aimed above 7.5 %).
    assert.equal(t2, 512, `active target ${t2}`);
    assert.ok(Math.abs(t1 - (720 - 55 - 512)) <= 1, `idle target ${t1}`);
    assert.ok(active.allocatedPages() >= 0.95 * 512, `active allocation ${active.allocatedPages()} (${JSON.stringify(trace.slice(-5))})`);
    assert.ok(idle.allocatedPages() <= t1 + 0.02 * 720, `idle allocation ${idle.allocatedPages()}`);
  });

  it('the active VM ends with more memory under the tax than without it, and the idle VM with less', () => {
    const plain = fig7(0, 1500);
    const taxed = fig7(0.75, 1500);
    assert.ok(taxed.active.allocatedPages() - plain.active.allocatedPages() >= 100);
    assert.ok(plain.idle.allocatedPages() - taxed.idle.allocatedPages() >= 100);
  });
});

/** Fig. 8 in miniature: five VMs of 330 pages (1650) on 1000 pages (65 % overcommitted), booting
 *  40 s apart (a boot touches all of the VM's memory at 3 pages/s, 0.3 % of the host a second),
 *  then running working sets of different sizes. */
function fig8(balloons: boolean, seconds: number): { host: FakeHost; vms: FakeVm[] } {
  const host = new FakeHost(1000);
  const activities = ['active', { fraction: 0.5 }, { fraction: 0.3 }, 'idle', { fraction: 0.7 }] as const;
  const vms = activities.map((_, i) => {
    const b = new FakeBalloon(16, Math.floor(0.65 * 330));
    b.enabled = balloons;
    const vm = new FakeVm(host, i + 1, 330, 3300, 50, b);
    vm.activity = 'idle';
    vm.growth = 3;
    host.addVm(vm);
    return vm;
  });
  host.start({ policy: 'idle-tax' });
  host.run(seconds, (t) => {
    vms.forEach((vm, i) => {
      if (t === 1 + 40 * i) vm.activity = 'active';
      if (t === 1 + 40 * i + 110) vm.activity = activities[i];
    });
  });
  return { host, vms };
}

describe('memory scheduler — Fig. 8 shape (states over a run)', () => {
  it('with working balloons nearly all the time is spent in the high and soft states', () => {
    const { host, vms } = fig8(true, 1800);
    const { high, soft, hard, low } = host.stateTime;
    assert.ok(high + soft >= 0.97 * 1800, `high ${high} soft ${soft} hard ${hard} low ${low}`);
    assert.ok(soft > 0, 'memory pressure did occur');
    const ballooned = vms.reduce((s, v) => s + v.balloon!.actual, 0);
    assert.ok(ballooned > 3 * host.swap.swappedOut, `ballooned ${ballooned} vs swapped ${host.swap.swappedOut}`);
    assert.ok(host.swap.swappedOut <= 0.03 * 1000, `swapped ${host.swap.swappedOut}`);
    // The idle VM gave up the most (the tax), down toward its min.
    const idle = vms[3].allocatedPages();
    for (const v of vms) assert.ok(idle <= v.allocatedPages(), `idle VM holds ${idle}, VM ${v.vmId} ${v.allocatedPages()}`);
  });

  it('without ballooning the same run swaps instead (soft swaps where ballooning is impossible)', () => {
    const withB = fig8(true, 600);
    const without = fig8(false, 600);
    assert.ok(without.host.swap.swappedOut > 3 * withB.host.swap.swappedOut + 50, `swapped ${without.host.swap.swappedOut} vs ${withB.host.swap.swappedOut}`);
    assert.equal(without.vms.reduce((s, v) => s + v.balloon!.actual, 0), 0);
  });
});
