// The memory scheduler against fakes: what each state does to balloons, the swapper and
// blocking; when it rebalances; sharing pacing; admission; the bounded history.
import { strict as assert } from 'node:assert';
import { MemScheduler, type BalloonPort, type ScheduledVm, type SwapPort } from '../../../../src/engine/memory/overcommit/memScheduler';
import { SchedHistory, type SchedSample } from '../../../../src/engine/memory/overcommit/policy/schedHistory';
import type { ReclaimStateChange } from '../../../../src/engine/memory/overcommit/policy/reclaimState';
import { FakeBalloon, FakeHost, FakeVm, RESIDENT } from './fakeHost';

/** A VM whose numbers the test sets directly. */
class StaticVm implements ScheduledVm {
  allocated: number;
  swapped = 0;
  blocked = false;
  cycles = 0;
  readonly sampling = null;
  constructor(
    readonly vmId: number,
    allocated: number,
    readonly balloon: BalloonPort | null,
    readonly maxPages = 1000,
    readonly minPages = 0,
    readonly shares = 1000,
    readonly overheadPages = 0,
  ) {
    this.allocated = allocated;
  }
  allocatedPages(): number {
    return this.allocated;
  }
  swappedPages(): number {
    return this.swapped;
  }
  sharedPages(): number {
    return 0;
  }
  executedCycles(): number {
    return this.cycles;
  }
  setBlocked(b: boolean): void {
    this.blocked = b;
  }
}

class StaticBalloon implements BalloonPort {
  target = 0;
  actual = 0;
  constructor(
    public deliver = true,
    public cap = Number.POSITIVE_INFINITY,
  ) {}
  canDeliver(): boolean {
    return this.deliver;
  }
  get shortfall(): number {
    return Math.max(0, this.target - this.cap);
  }
}

class StaticHost {
  readonly vms: StaticVm[] = [];
  readonly swaps: { vmId: number; pages: number }[] = [];
  readonly clock = { t: 0, cyclesPerSecond: 1000, seconds(): number { return this.t; } };
  constructor(readonly totalPages: number, readonly swapPages = 100000) {}
  freePages(): number {
    return this.totalPages - this.vms.reduce((s, v) => s + v.allocated, 0);
  }
  readonly swap: SwapPort = {
    swapOut: (vmId, pages) => {
      this.swaps.push({ vmId, pages });
      const vm = this.vms.find((v) => v.vmId === vmId)!;
      vm.allocated -= pages;
      vm.swapped += pages;
      return pages;
    },
  };
  scheduler(vms: StaticVm[]): MemScheduler {
    const s = new MemScheduler(this, this.clock, this.swap, null, { policy: 'shares' });
    for (const v of vms) {
      this.vms.push(v);
      assert.equal(s.addVm(v), null);
    }
    return s;
  }
}

describe('memScheduler — what each state does', () => {
  // 1000 pages; the targets aim free memory at 76 pages (> 7.5 %).
  it('high: no reclamation, only leftover balloons shrink', () => {
    const h = new StaticHost(1000);
    const b = new StaticBalloon();
    b.actual = b.target = 100;
    const vm = new StaticVm(1, 300, b);
    const s = h.scheduler([vm]);
    const rep = s.rebalance();
    assert.equal(rep.state, 'high');
    assert.equal(h.swaps.length, 0);
    assert.equal(b.target, 0, 'target 924 ≥ demand 400: the balloon deflates completely');
  });

  it('soft with working balloons: balloon targets cover the excess, nothing is swapped', () => {
    const h = new StaticHost(1000);
    const b1 = new StaticBalloon();
    const b2 = new StaticBalloon();
    const s = h.scheduler([new StaticVm(1, 600, b1, 600), new StaticVm(2, 370, b2, 600)]);
    const rep = s.rebalance();
    assert.equal(rep.state, 'soft'); // 3 % free
    assert.equal(rep.budgetPages, 30 + 970 - 76);
    // Equal shares would be 462 each, but VM2 has touched only 370: it keeps them all and VM1
    // gets the rest (554), giving back 46.
    assert.deepEqual(rep.plans.map((p) => p.target), [554, 370]);
    assert.equal(b1.target, 46);
    assert.equal(b2.target, 0);
    assert.equal(h.swaps.length, 0);
  });

  it('soft: swaps where there is no balloon, where it cannot deliver, and the part a capped balloon cannot reach', () => {
    const h = new StaticHost(1000);
    const broken = new StaticBalloon(false);
    const capped = new StaticBalloon(true, 50);
    const s = h.scheduler([new StaticVm(1, 330, null, 400), new StaticVm(2, 330, broken, 400), new StaticVm(3, 310, capped, 400)]);
    const rep = s.rebalance();
    assert.equal(rep.state, 'soft');
    // Targets: 308 each.
    assert.deepEqual(rep.plans.map((p) => p.target), [308, 308, 308]);
    assert.deepEqual(h.swaps, [
      { vmId: 1, pages: 22 },
      { vmId: 2, pages: 22 },
    ]);
    const h2 = new StaticHost(1000);
    const capped2 = new StaticBalloon(true, 20);
    const s2 = h2.scheduler([new StaticVm(1, 900, capped2, 950), new StaticVm(2, 70, null, 950, 0, 100000)]);
    const rep2 = s2.rebalance();
    assert.equal(rep2.state, 'soft');
    assert.deepEqual(rep2.plans.map((p) => p.target), [854, 70]);
    assert.equal(capped2.target, 46);
    assert.deepEqual(h2.swaps, [{ vmId: 1, pages: 26 }], 'the shortfall beyond the guest cap');
  });

  it('hard: swaps every VM down to target now, and the balloon is set to take over', () => {
    const h = new StaticHost(1000);
    const b = new StaticBalloon();
    const s = h.scheduler([new StaticVm(1, 700, b, 800), new StaticVm(2, 285, null, 800)]);
    const rep = s.rebalance();
    assert.equal(rep.state, 'hard'); // 1.5 % free
    assert.deepEqual(rep.plans.map((p) => p.target), [639, 285]);
    assert.deepEqual(h.swaps, [{ vmId: 1, pages: 61 }]);
    assert.equal(b.target, 61);
    assert.ok(!rep.plans.some((p) => p.blocked));
  });

  it('low: VMs above target are blocked until they are not; leaving low unblocks', () => {
    const h = new StaticHost(1000);
    // A swapper that can do nothing (swap full) so the VM stays above target.
    const vm1 = new StaticVm(1, 700, null, 800);
    const vm2 = new StaticVm(2, 295, null, 800);
    const s = new MemScheduler(h, h.clock, { swapOut: () => 0 }, null, { policy: 'shares' });
    h.vms.push(vm1, vm2);
    s.addVm(vm1);
    s.addVm(vm2);
    const rep = s.rebalance();
    assert.equal(rep.state, 'low'); // 0.5 % free
    assert.ok(vm1.blocked && !vm2.blocked);
    // The guest gives memory back some other way (e.g. it frees pages): unblocked on the tick.
    h.clock.t = 1;
    vm1.allocated = 460;
    s.tick();
    assert.ok(!vm1.blocked);
    assert.equal(s.state, 'high', '24.5 % free clears every exit level');
  });
});

describe('memScheduler — when it rebalances', () => {
  it('every balance period, and at once when the state drops (or stays under the threshold)', () => {
    const h = new StaticHost(1000);
    const vm = new StaticVm(1, 100, new StaticBalloon(), 1000);
    const s = h.scheduler([vm]);
    const reasons: string[] = [];
    for (let t = 0; t <= 40; t++) {
      h.clock.t = t;
      if (t === 20) vm.allocated = 965; // free 3.5 %: soft
      if (t === 22) vm.allocated = 930; // recovered to 7 %: still soft (exit is 7.5 %)
      if (t === 25) vm.allocated = 990; // below the soft threshold again while in soft
      const rep = s.tick();
      if (rep) reasons.push(`${t}:${rep.reason}`);
    }
    // 20: high → soft. 21: still under 4 % (the balloon has not delivered): again. 22: 7 % is
    // in soft's dead zone: nothing. 25: 1 % free → hard, which swaps down to target at once, so
    // no further pressure rebalances until the period at 40.
    assert.deepEqual(reasons, ['0:period', '15:period', '20:pressure', '21:pressure', '25:pressure', '40:period']);
    assert.equal(s.rebalanceCount, reasons.length);
  });

  it('reports state changes to listeners', () => {
    const h = new StaticHost(1000);
    const vm = new StaticVm(1, 100, null, 1000);
    const s = h.scheduler([vm]);
    const seen: ReclaimStateChange[] = [];
    s.onStateChange((c) => seen.push(c));
    h.clock.t = 1;
    vm.allocated = 985;
    s.tick();
    assert.deepEqual(seen.map((c) => `${c.from}→${c.to}`), ['high→hard']);
  });
});

describe('memScheduler — sampling, sharing, admission, configuration', () => {
  it('drives each VM\'s sampler by its own executed cycles and forwards touches', () => {
    const host = new FakeHost(1000);
    const vm = new FakeVm(host, 1, 200, 1000);
    host.addVm(vm);
    vm.pages.fill(RESIDENT);
    const s = host.start({ samplePeriodS: 30 });
    const sampler = s.samplerOf(1)!;
    assert.equal(vm.invalidations, 100);
    for (const p of sampler.sampledPages().slice(0, 25)) s.touched(1, p);
    host.clock.t = 100;
    s.tick();
    assert.equal(sampler.reading().periods, 0, 'the VM did not run: no period passed');
    vm.cycles = 30 * 1000;
    s.tick();
    assert.equal(sampler.lastSample, 0.25);
    assert.equal(vm.invalidations, 200);
  });

  it('paces the sharing scanner at min(per-VM rate × VMs, total rate), carrying fractions', () => {
    for (const [vms, perSecond] of [
      [1, 50],
      [3, 150],
      [5, 200],
    ] as const) {
      const host = new FakeHost(100000);
      for (let i = 1; i <= vms; i++) host.addVm(new FakeVm(host, i, 10, 1000));
      const s = host.start({});
      // Ticks of 1/8 s (exact in binary): 10 s at the capped rate, in pieces of 6.25–25 pages.
      for (let i = 0; i <= 80; i++) {
        host.clock.t = i / 8;
        s.tick();
      }
      assert.equal(host.sharing.scanned, 10 * perSecond, `${vms} VMs`);
    }
    const host = new FakeHost(1000);
    host.addVm(new FakeVm(host, 1, 10, 1000));
    const s = host.start({ sharing: { enabled: false, scanPagesPerSecPerVm: 50, scanPagesPerSecTotal: 200 } });
    host.clock.t = 10;
    s.tick();
    assert.equal(host.sharing.scanned, 0);
  });

  it('admission control refuses a VM whose min + overhead does not fit', () => {
    const host = new FakeHost(1000, 500);
    host.start({});
    host.addVm(new FakeVm(host, 1, 600, 1000, 400, null, 100));
    assert.throws(() => host.addVm(new FakeVm(host, 2, 600, 1000, 450, null, 100)), /min \+ overhead = 550 pages but only 500 of 1000/);
    assert.throws(() => host.addVm(new FakeVm(host, 3, 800, 1000, 100, null, 0)), /700 pages of swap needed but only 300 of 500/);
  });

  it('rejects τ = 1 and non-positive periods', () => {
    const host = new FakeHost(1000);
    assert.throws(() => host.start({ tau: 1 }), /0 ≤ τ < 1/);
    assert.throws(() => host.start({ balancePeriodS: 0 }), RangeError);
  });

  it('records a history sample per rebalance with every per-VM column', () => {
    const host = new FakeHost(720);
    const vm = new FakeVm(host, 1, 512, 1000, 0, new FakeBalloon(16, 333));
    host.addVm(vm);
    const s = host.start({});
    host.run(60);
    const h = s.history.all();
    assert.ok(h.length >= 4);
    const last = h[h.length - 1];
    assert.equal(last.vms.length, 1);
    assert.deepEqual(Object.keys(last.vms[0]).sort(), ['allocated', 'balloonSize', 'balloonTarget', 'blocked', 'rho', 'shared', 'swapped', 'target', 'vmId', 'workingSet']);
    assert.equal(last.vms[0].balloonSize, vm.balloon!.actual);
    assert.equal(last.vms[0].target, s.targetOf(1));
    assert.ok(h.every((x, i) => i === 0 || x.t >= h[i - 1].t));
  });
});

describe('policy/schedHistory — bounded, whole-run history', () => {
  const sample = (t: number): SchedSample => ({ t, state: 'high', freePages: 0, reason: 'period', vms: [] });

  it('never exceeds its capacity and keeps the start of the run at halving resolution', () => {
    const h = new SchedHistory(16);
    for (let t = 0; t < 1000; t++) {
      h.record(sample(t));
      assert.ok(h.length < 16);
    }
    const ts = h.all().map((s) => s.t);
    assert.equal(ts[0], 0);
    const stride = h.resolution;
    assert.ok(ts.every((t, i) => t === i * stride), `evenly spaced by ${stride}: ${ts.join(',')}`);
    assert.ok(ts[ts.length - 1] > 1000 - 2 * stride, 'reaches the end of the run');
  });

  it('keeps everything while under capacity', () => {
    const h = new SchedHistory(100);
    for (let t = 0; t < 50; t++) h.record(sample(t));
    assert.deepEqual(h.all().map((s) => s.t), [...Array(50).keys()]);
    assert.equal(h.resolution, 1);
    assert.throws(() => new SchedHistory(1), RangeError);
  });
});

describe('memScheduler — thresholds with a page floor (memsched.thresholds.minFreePages)', () => {
  // One VM with a working balloon on a 256-page machine. With the floor of 32 pages the states
  // are entered below 21.3 / 10.7 / 5.3 free pages and targets aim at 41 free; without it below
  // 10.2 / 5.1 / 2.6 and at 20.
  const table: [number, number, string, number, number, number][] = [
    // floor, allocated, state, budget, balloon target, swapped now
    [32, 230, 'high', 215, 0, 0],
    [32, 236, 'soft', 215, 21, 0],
    [32, 246, 'hard', 215, 31, 31],
    [32, 252, 'low', 215, 37, 37],
    [0, 236, 'high', 236, 0, 0],
    [0, 246, 'soft', 236, 10, 0],
    [0, 252, 'hard', 236, 16, 16],
  ];
  for (const [floor, allocated, state, budget, balloonTarget, swapped] of table) {
    it(`floor ${floor}, ${256 - allocated} pages free → ${state}: budget ${budget}, balloon ${balloonTarget}, swap ${swapped}`, () => {
      const h = new StaticHost(256);
      const b = new StaticBalloon();
      const vm = new StaticVm(1, allocated, b, 256);
      h.vms.push(vm);
      const s = new MemScheduler(h, h.clock, h.swap, null, { policy: 'shares', thresholds: { high: 6, soft: 4, hard: 2, low: 1, upMargin: 0.25, minFreePages: floor } });
      assert.equal(s.addVm(vm), null);
      const rep = s.rebalance();
      assert.equal(rep.state, state);
      assert.equal(rep.budgetPages, budget);
      assert.equal(b.target, balloonTarget);
      assert.equal(h.swaps.reduce((n, x) => n + x.pages, 0), swapped);
    });
  }

  it('a floor too large for the host fails when the scheduler is made', () => {
    const h = new StaticHost(256);
    assert.throws(() => new MemScheduler(h, h.clock, h.swap, null, { thresholds: { high: 6, soft: 4, hard: 2, low: 1, upMargin: 0.25, minFreePages: 250 } }), /too large for a machine of 256 pages/);
  });
});
