// high / soft / hard / low at 6 / 4 / 2 / 1 % free with hysteresis (W §6.2).
import { strict as assert } from 'node:assert';
import {
  DEFAULT_THRESHOLDS,
  effectiveThresholds,
  entryThreshold,
  exitThreshold,
  nextReclaimState,
  RECLAIM_STATES,
  reclaimActions,
  ReclaimStateMachine,
  validateThresholds,
  type ReclaimState,
  type ReclaimStateChange,
} from '../../../../src/engine/memory/overcommit/policy/reclaimState';
import { rng } from '../../../support/rng';

describe('policy/reclaimState — transitions', () => {
  const table: [ReclaimState, number, ReclaimState, string][] = [
    ['high', 10, 'high', 'plenty free'],
    ['high', 5, 'high', 'below high but above soft: no reclamation yet'],
    ['high', 4, 'high', 'exactly at soft: not below it'],
    ['high', 3.99, 'soft', 'below soft'],
    ['high', 1.5, 'hard', 'a sudden drop skips soft'],
    ['high', 0.5, 'low', 'a sudden drop to low'],
    ['soft', 5.9, 'soft', 'in the dead zone between soft and high'],
    ['soft', 6.5, 'soft', 'above high, but not clearly (6 · 1.25 = 7.5)'],
    ['soft', 7.5, 'soft', 'exactly at the exit level: not exceeded'],
    ['soft', 7.51, 'high', 'clearly above high'],
    ['soft', 2, 'soft', 'exactly at hard'],
    ['soft', 1.99, 'hard', 'below hard'],
    ['hard', 4.5, 'hard', 'above soft but not clearly (5 %)'],
    ['hard', 5.01, 'soft', 'clearly above soft'],
    ['hard', 8, 'high', 'far above: climbs both steps at once'],
    ['hard', 0.99, 'low', 'below low'],
    ['low', 2.4, 'low', 'above hard but not clearly (2.5 %)'],
    ['low', 2.6, 'hard', 'clearly above hard'],
    ['low', 5.5, 'soft', 'clearly above soft'],
    ['low', 0, 'low', 'nothing free'],
  ];
  for (const [from, free, to, why] of table) {
    it(`${from} at ${free} % → ${to} (${why})`, () => assert.equal(nextReclaimState(from, free), to));
  }

  it('the thresholds are the reference defaults and the exit levels include the 25 % margin', () => {
    assert.deepEqual({ ...DEFAULT_THRESHOLDS }, { high: 6, soft: 4, hard: 2, low: 1, upMargin: 0.25, minFreePages: 0 });
    assert.deepEqual(RECLAIM_STATES.map((s) => exitThreshold(DEFAULT_THRESHOLDS, s)), [Number.POSITIVE_INFINITY, 7.5, 5, 2.5]);
    assert.deepEqual(RECLAIM_STATES.map((s) => entryThreshold(DEFAULT_THRESHOLDS, s)), [Number.POSITIVE_INFINITY, 4, 2, 1]);
  });

  it('what each state does', () => {
    assert.deepEqual(reclaimActions('high'), { balloon: false, swap: 'none', blockAboveTarget: false });
    assert.deepEqual(reclaimActions('soft'), { balloon: true, swap: 'unballoonable', blockAboveTarget: false });
    assert.deepEqual(reclaimActions('hard'), { balloon: true, swap: 'all', blockAboveTarget: false });
    assert.deepEqual(reclaimActions('low'), { balloon: true, swap: 'all', blockAboveTarget: true });
  });

  it('invalid thresholds are rejected', () => {
    for (const t of [
      { high: 4, soft: 6, hard: 2, low: 1, upMargin: 0.25, minFreePages: 0 },
      { high: 6, soft: 4, hard: 2, low: 0, upMargin: 0.25, minFreePages: 0 },
      { high: 6, soft: 4, hard: 2, low: 1, upMargin: -1, minFreePages: 0 },
      { high: 90, soft: 4, hard: 2, low: 1, upMargin: 0.25, minFreePages: 0 },
      { high: 6, soft: 4, hard: 2, low: 1, upMargin: 0.25, minFreePages: -1 },
      { high: 6, soft: 4, hard: 2, low: 1, upMargin: 0.25, minFreePages: 2.5 },
    ]) assert.throws(() => validateThresholds(t), RangeError, JSON.stringify(t));
  });
});

describe('policy/reclaimState — generated free-memory sequences', () => {
  const level = (s: ReclaimState): number => RECLAIM_STATES.indexOf(s);

  it('every step obeys the rules: down only below an entry threshold, up only clearly above an exit', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const r = rng(seed);
      let state: ReclaimState = 'high';
      let free = 10;
      for (let i = 0; i < 2000; i++) {
        // A random walk with occasional jumps, clamped to [0, 20] %.
        free = Math.min(20, Math.max(0, free + (r.int(100) < 5 ? (r.int(2001) - 1000) / 100 : (r.int(201) - 100) / 100)));
        const next = nextReclaimState(state, free);
        if (level(next) > level(state)) {
          assert.ok(free < entryThreshold(DEFAULT_THRESHOLDS, RECLAIM_STATES[level(state) + 1]), `seed ${seed} step ${i}: ${state} → ${next} at ${free}`);
          // The deepest state whose entry threshold free memory is below.
          if (next !== 'low') assert.ok(free >= entryThreshold(DEFAULT_THRESHOLDS, RECLAIM_STATES[level(next) + 1]));
          assert.ok(free < entryThreshold(DEFAULT_THRESHOLDS, next));
        } else if (level(next) < level(state)) {
          assert.ok(free > exitThreshold(DEFAULT_THRESHOLDS, state), `seed ${seed} step ${i}: ${state} → ${next} at ${free}`);
          // Stopped at the first state whose exit it does not clearly exceed.
          assert.ok(next === 'high' || free <= exitThreshold(DEFAULT_THRESHOLDS, next));
        } else {
          // Staying put: not below the next entry threshold, not clearly above the exit.
          if (state !== 'low') assert.ok(free >= entryThreshold(DEFAULT_THRESHOLDS, RECLAIM_STATES[level(state) + 1]));
          assert.ok(free <= exitThreshold(DEFAULT_THRESHOLDS, state));
        }
        state = next;
      }
    }
  });

  it('hysteresis: noise around a threshold does not make the state flap; without the margin it would around the exit', () => {
    const noisy = (centre: number, seed: number): number[] => {
      const r = rng(seed);
      return Array.from({ length: 1000 }, () => centre + (r.int(201) - 100) / 200); // ±0.5 %
    };
    // Soft entered at 3.5 %, then free memory hovers around 6 % (the high threshold).
    const withMargin = new ReclaimStateMachine();
    const noMargin = new ReclaimStateMachine({ ...DEFAULT_THRESHOLDS, upMargin: 0 });
    let flapsWith = 0;
    let flapsWithout = 0;
    withMargin.onChange(() => flapsWith++);
    noMargin.onChange(() => flapsWithout++);
    for (const sm of [withMargin, noMargin]) sm.update(35, 1000);
    for (const f of noisy(6, 3)) {
      withMargin.update(f * 10, 1000);
      noMargin.update(f * 10, 1000);
    }
    assert.equal(flapsWith, 1, 'only the initial high → soft');
    assert.equal(withMargin.state, 'soft');
    // Without margin it leaves soft as soon as noise pushes free over 6 %, and never comes back
    // (4 % is far): one extra change. The margin is what "clearly exceeding" buys.
    assert.equal(flapsWithout, 2);
    // Around the soft entry (4 %) from high: enters soft once and stays (5 % is not 7.5 %).
    const sm = new ReclaimStateMachine();
    let changes = 0;
    sm.onChange(() => changes++);
    for (const f of noisy(4, 4)) sm.update(f * 10, 1000);
    assert.equal(changes, 1);
    assert.equal(sm.state, 'soft');
  });

  it('the machine reports each change once, with from, to and the free percentage', () => {
    const sm = new ReclaimStateMachine();
    const seen: ReclaimStateChange[] = [];
    sm.onChange((c) => seen.push(c));
    for (const free of [100, 50, 39, 39, 30, 19, 9, 9, 26, 51, 76, 80]) sm.update(free, 1000);
    assert.deepEqual(
      seen.map((c) => [c.from, c.to, c.freePercent]),
      [
        ['high', 'soft', 3.9],
        ['soft', 'hard', 1.9],
        ['hard', 'low', 0.9],
        ['low', 'hard', 2.6],
        ['hard', 'soft', 5.1],
        ['soft', 'high', 7.6],
      ],
    );
    assert.deepEqual({ ...sm.entered }, { high: 1, soft: 2, hard: 2, low: 1 });
  });

  it('the free-memory target lies above the high exit level, so meeting it returns soft to high', () => {
    for (const total of [100, 1000, 4096, 262144]) {
      const sm = new ReclaimStateMachine();
      sm.update(0, total);
      const target = sm.targetFreePages(total);
      assert.ok((100 * target) / total > 7.5, `${total}: target ${target}`);
      assert.equal(sm.update(target, total), 'high');
    }
  });
});

describe('policy/reclaimState — a page floor on the thresholds (vSphere minFree)', () => {
  const floor = (minFreePages: number) => ({ ...DEFAULT_THRESHOLDS, minFreePages });
  // [machine pages, floor, high, soft, hard, low (all in pages), why]
  const table: [number, number, number, number, number, number, string][] = [
    [256, 0, 15.36, 10.24, 5.12, 2.56, 'no floor: the paper\'s 6/4/2/1 %'],
    [256, 32, 32, 21.33, 10.67, 5.33, '6 % is 15 pages: the floor raises high to 32, the others keep their ratios'],
    [256, 15, 15.36, 10.24, 5.12, 2.56, 'a floor below 6 % changes nothing'],
    [1000, 60, 60, 40, 20, 10, 'exactly at 6 %: unchanged'],
    [1000, 120, 120, 80, 40, 20, 'twice 6 %'],
    [262144, 1024, 15728.64, 10485.76, 5242.88, 2621.44, 'a large machine: the percentages win'],
  ];
  for (const [total, min, high, soft, hard, low, why] of table) {
    it(`${total} pages, floor ${min}: high ${high}, soft ${soft}, hard ${hard}, low ${low} pages (${why})`, () => {
      const e = effectiveThresholds(floor(min), total);
      const pages = [e.high, e.soft, e.hard, e.low].map((pct) => Math.round(((pct * total) / 100) * 100) / 100);
      assert.deepEqual(pages, [high, soft, hard, low]);
      assert.equal(e.upMargin, DEFAULT_THRESHOLDS.upMargin);
    });
  }

  it('the state machine applies the floor: on 256 pages with a floor of 32, 21 free pages enters soft (at 6 % it would take 10)', () => {
    const t: [number, ReclaimState, ReclaimState][] = [
      // free pages, from, to
      [22, 'high', 'high'],
      [21, 'high', 'soft'],
      [11, 'soft', 'soft'],
      [10, 'soft', 'hard'],
      [5, 'hard', 'low'],
      [27, 'low', 'soft'], // > 2 · 1.25 · 32/6 % = 13.3 pages leaves low; > 26.7 leaves hard
      [40, 'soft', 'soft'], // the exit from soft is 32 · 1.25 = 40 pages: not exceeded
      [41, 'soft', 'high'],
    ];
    const sm = new ReclaimStateMachine(floor(32));
    for (const [free, from, to] of t) {
      assert.equal(sm.state, from, `before ${free}`);
      assert.equal(sm.update(free, 256), to, `${free} free from ${from}`);
    }
    assert.equal(sm.targetFreePages(256), 41, 'targets aim just above the exit from soft, 40 pages');
    assert.equal(new ReclaimStateMachine().targetFreePages(256), 20, 'without the floor: 7.5 % of 256 = 19.2');
  });

  it('generated: the floor never lowers a threshold, keeps the order and the ratios, and reaches minFreePages', () => {
    const r = rng(7);
    for (let i = 0; i < 300; i++) {
      const total = 16 + r.int(100_000);
      const min = r.int(Math.floor(total / 10) + 1);
      const e = effectiveThresholds(floor(min), total);
      assert.ok(e.high >= DEFAULT_THRESHOLDS.high && e.soft >= DEFAULT_THRESHOLDS.soft && e.hard >= DEFAULT_THRESHOLDS.hard && e.low >= DEFAULT_THRESHOLDS.low);
      assert.ok(e.high > e.soft && e.soft > e.hard && e.hard > e.low);
      assert.ok(Math.abs(e.soft / e.high - 4 / 6) < 1e-9 && Math.abs(e.low / e.high - 1 / 6) < 1e-9);
      assert.ok((e.high * total) / 100 >= min - 1e-9, `${total} pages, floor ${min}: high ${(e.high * total) / 100} pages`);
    }
  });

  it('a floor that leaves no room above high is rejected, naming the machine', () => {
    assert.throws(() => effectiveThresholds(floor(210), 256), /minFreePages 210 is too large for a machine of 256 pages/);
    assert.doesNotThrow(() => effectiveThresholds(floor(200), 256)); // 200 · 1.25 = 250 < 256
    assert.throws(() => validateThresholds(floor(-1)), RangeError);
    assert.throws(() => validateThresholds(floor(1.5)), RangeError);
  });
});
