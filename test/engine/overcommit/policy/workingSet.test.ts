// The working-set sampler: n random resident pages per period invalidated, f = t/n, three
// averages, estimate = max — rises fast, falls slowly (the shape of W Fig. 6).
import { strict as assert } from 'node:assert';
import { DEFAULT_GAINS, WorkingSetSampler, type SamplingPort } from '../../../../src/engine/memory/overcommit/policy/workingSet';
import { seededRandom } from '../../../../src/engine/memory/overcommit/seededRandom';

class FakePages implements SamplingPort {
  readonly resident: boolean[];
  readonly invalidated: number[] = [];
  constructor(
    readonly pages: number,
    residentCount = pages,
  ) {
    this.resident = Array.from({ length: pages }, (_, i) => i < residentCount);
  }
  isResident(ppn: number): boolean {
    return this.resident[ppn];
  }
  invalidate(ppn: number): void {
    this.invalidated.push(ppn);
  }
}

const PERIOD = 30_000;
const sampler = (port: SamplingPort, seed = 1, samplePages = 100): WorkingSetSampler =>
  new WorkingSetSampler(port, seededRandom(seed), { samplePages, periodCycles: PERIOD, gains: DEFAULT_GAINS });

/** One period of a guest whose working set is the pages [0, ws): it touches each of them. */
function period(s: WorkingSetSampler, ws: number): void {
  for (const p of s.sampledPages()) if (p < ws) s.touched(p);
  s.advance(PERIOD);
}

describe('policy/workingSet — sampling', () => {
  it('samples n distinct resident pages per period and invalidates each once', () => {
    const port = new FakePages(1000, 400);
    const s = sampler(port);
    const first = s.sampledPages();
    assert.equal(first.length, 100);
    assert.equal(new Set(first).size, 100);
    assert.ok(first.every((p) => p < 400), 'only resident pages');
    assert.deepEqual([...port.invalidated].sort((a, b) => a - b), [...first].sort((a, b) => a - b));
    s.advance(PERIOD);
    const second = s.sampledPages();
    assert.equal(port.invalidated.length, 200);
    assert.notDeepEqual(second.sort(), first.sort(), 'a fresh random sample each period');
  });

  it('fewer resident pages than n: samples them all; none: keeps the estimate', () => {
    const port = new FakePages(1000, 30);
    const s = sampler(port);
    assert.equal(s.sampledPages().length, 30);
    for (const p of s.sampledPages().slice(0, 15)) s.touched(p);
    s.advance(PERIOD);
    assert.equal(s.lastSample, 0.5);
    const empty = sampler(new FakePages(100, 0));
    empty.advance(3 * PERIOD);
    assert.equal(empty.reading().periods, 0);
    assert.equal(empty.estimate(), 1);
  });

  it('f = t/n, counting each sampled page once and ignoring pages outside the sample', () => {
    const port = new FakePages(1000, 1000);
    const s = sampler(port);
    const sample = s.sampledPages();
    const outside = [...Array(1000).keys()].find((p) => !sample.includes(p))!;
    for (const p of sample.slice(0, 37)) {
      assert.ok(s.watching(p));
      s.touched(p);
      s.touched(p);
      assert.ok(!s.watching(p));
    }
    s.touched(outside);
    s.advance(PERIOD - 1);
    assert.equal(s.reading().periods, 0, 'the period is measured in VM execution cycles');
    s.advance(1);
    assert.equal(s.lastSample, 0.37);
    // The first completed period seeds all three averages.
    const r = s.reading();
    assert.equal(r.slow, 0.37);
    assert.equal(r.fast, 0.37);
  });

  it('an unmeasured VM counts as fully active; one advance can close several periods', () => {
    const s = sampler(new FakePages(500));
    assert.equal(s.estimate(), 1);
    s.advance(3 * PERIOD + 5);
    assert.equal(s.reading().periods, 3);
    assert.equal(s.lastSample, 0);
  });

  it('rejects bad gains and periods', () => {
    const port = new FakePages(10);
    assert.throws(() => new WorkingSetSampler(port, seededRandom(1), { samplePages: 10, periodCycles: 1, gains: { slow: 0, fast: 0.5 } }), RangeError);
    assert.throws(() => new WorkingSetSampler(port, seededRandom(1), { samplePages: 10, periodCycles: 0, gains: DEFAULT_GAINS }), RangeError);
    assert.throws(() => new WorkingSetSampler(port, seededRandom(1), { samplePages: 0, periodCycles: 1, gains: DEFAULT_GAINS }), RangeError);
  });
});

describe('policy/workingSet — estimator shape (Fig. 6)', () => {
  const PAGES = 2000;
  /** Working set 20 % for 20 periods, 80 % for 30, back to 20 % for 60. */
  const profile = (i: number): number => (i < 20 ? 0.2 : i < 50 ? 0.8 : 0.2);

  function run(seed: number): { est: number[]; samples: number[] } {
    const s = sampler(new FakePages(PAGES), seed);
    const est: number[] = [];
    const samples: number[] = [];
    for (let i = 0; i < 110; i++) {
      period(s, profile(i) * PAGES);
      est.push(s.estimate());
      samples.push(s.lastSample);
    }
    return { est, samples };
  }

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`seed ${seed}: tracks a rise within a few periods, lets go over many`, () => {
      const { est } = run(seed);
      // Settled at the low level before the rise (within sampling noise, biased up by max()).
      assert.ok(est[19] > 0.1 && est[19] < 0.32, `before the rise ${est[19]}`);
      // Rise: 87.5 % of the step by the third period (fast α = 0.5).
      const risen = est.findIndex((e, i) => i >= 20 && e >= 0.2 + 0.8 * 0.6);
      assert.ok(risen >= 20 && risen <= 23, `reached 80 % of the step at period ${risen}`);
      // Fall: still above the midpoint 3 periods after the drop, back near 0.2 only after ~30.
      assert.ok(est[52] >= 0.5, `3 periods after the drop ${est[52]}`);
      const fallen = est.findIndex((e, i) => i >= 50 && e <= 0.2 + 0.6 * 0.2);
      assert.ok(fallen - 50 >= 10, `fell 80 % of the way in ${fallen - 50} periods`);
      assert.ok(fallen - 50 >= 4 * (risen - 20 + 1), 'falls at least 4× slower than it rises');
      assert.ok(est[109] < 0.35, `long after the drop ${est[109]}`);
      // max() of the three: never below the fast average nor the slow one.
    });
  }

  it('the partial period raises the estimate before the period ends', () => {
    const s = sampler(new FakePages(PAGES), 9);
    for (let i = 0; i < 10; i++) period(s, 0.1 * PAGES);
    const before = s.estimate();
    // The guest suddenly touches everything: halfway through the period the sample shows it.
    for (const p of s.sampledPages()) s.touched(p);
    s.advance(PERIOD / 2);
    const r = s.reading();
    assert.ok(r.partial > r.fast && r.estimate === r.partial, JSON.stringify(r));
    assert.ok(r.estimate >= before + 0.4, `${before} → ${r.estimate}`);
  });

  it('the estimate is the max of the slow, fast and partial averages', () => {
    const s = sampler(new FakePages(PAGES), 4);
    for (let i = 0; i < 40; i++) {
      period(s, profile(i) * PAGES);
      const r = s.reading();
      assert.equal(r.estimate, Math.max(r.slow, r.fast, r.partial));
    }
  });

  it('the sampling noise at n = 100 stays within the binomial bound', () => {
    const { samples } = run(7);
    // Periods 60–109 sample a 20 % working set: σ = √(0.2·0.8/100) = 0.04.
    const tail = samples.slice(60);
    const mean = tail.reduce((a, b) => a + b, 0) / tail.length;
    assert.ok(Math.abs(mean - 0.2) < 0.03, `mean ${mean}`);
    assert.ok(tail.every((f) => Math.abs(f - 0.2) < 5 * 0.04));
  });
});
