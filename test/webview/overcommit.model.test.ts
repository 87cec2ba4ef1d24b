// The Memory Overcommit view model in node: numbers in words, the header, table rows, and the
// chart geometry (one point per sample, extremes on the plot's edges, ∞ breaking a line, the
// state bands and runs, nearest sample) over the hand-made fixture and a real machine's snapshot.
import * as assert from 'node:assert/strict';
import {
  freeChart, headerModel, lineChart, nearestSample, niceStep, percent, polylinePoints, rhoChart, rhoText, seconds, throughput, ticks, vmChart, vmRow,
  vmSampleText, workingSetPages,
} from '../../src/webview/overcommit/model';
import type { Box } from '../../src/webview/overcommit/model';
import type { OvercommitSampleWire, OvercommitWire } from '../../src/debugAdapter/viewsProtocol';
import { overcommitFixture } from './overcommitFixture';
import { runOvercommitted } from './overcommitMachine';
import { createInspectTarget } from '../../src/debugAdapter/inspect/target';
import { overcommitPayload } from '../../src/debugAdapter/inspect/overcommit';

const data = overcommitFixture();
const BOX: Box = { width: 600, height: 200, left: 50, right: 10, top: 10, bottom: 20 };
const BOTTOM = BOX.height - BOX.bottom;

describe('overcommit model: words', () => {
  const rhos: [number | null, string][] = [[null, '∞'], [0, '0'], [0.238237, '0.238'], [0.0012345, '0.00123'], [12.345, '12.3'], [123456.7, '123,457']];
  for (const [rho, want] of rhos) it(`ρ ${rho} → ${want}`, () => assert.equal(rhoText(rho), want));

  const secs: [number, string][] = [[0, '0.00 s'], [0.0125, '12.5 ms'], [1.5, '1.50 s'], [300.5, '300.50 s']];
  for (const [s, want] of secs) it(`${s} s → ${want}`, () => assert.equal(seconds(s), want));

  it('percent, working-set pages, throughput', () => {
    assert.equal(percent(0.95), '95 %');
    assert.equal(percent(0.12345), '12.3 %');
    assert.equal(workingSetPages(0.5, 701), 351);
    assert.equal(throughput(60, 40), 0.6);
    assert.equal(throughput(0, 0), null);
  });

  it('heads with the time, the state, free memory and the thresholds', () => {
    const m = headerModel(data);
    assert.equal(m.time, '300.50 s simulated');
    assert.equal(m.state, 'high');
    assert.equal(m.free, '9.4 % free (1,540 of 16,384 machine pages)');
    assert.ok(Math.abs(m.freePercent - (100 * 1540) / 16384) < 1e-9);
    assert.match(m.sharing, /^sharing: 420 shared frames/);
    assert.equal(headerModel({ ...data, sharing: null }).sharing, 'no page sharing');
    assert.equal(headerModel({ ...data, sharing: { ...data.sharing!, enabled: false } }).sharing, 'page sharing off');
    assert.match(headerModel({ ...data, resolution: 4 }).rebalances, /charts keep every 4th/);
  });
});

describe('overcommit model: table rows', () => {
  it('gives every column of every VM a value', () => {
    for (const v of data.vms) {
      const row = vmRow(v);
      for (const [k, c] of Object.entries(row.cells)) assert.ok(c.text.length > 0, `${v.name} ${k}`);
    }
  });

  it('says what is missing instead of a number: no target yet, not sampled, no balloon, cap not announced', () => {
    const v = { ...data.vms[0], target: null, workingSet: null, balloon: { ...data.vms[0].balloon!, limit: null } };
    const row = vmRow(v);
    assert.equal(row.cells.target.text, '—');
    assert.equal(row.cells.workingSet.text, 'not sampled');
    assert.equal(row.cells.balloonCap.text, 'not announced');
    assert.equal(vmRow(data.vms[2]).cells.balloon.text, 'no balloon');
    assert.equal(vmRow({ ...data.vms[2], rho: null }).cells.rho.text, '∞');
    assert.equal(vmRow({ ...data.vms[0], blocked: true }).cells.blocked.mark, 'warn');
  });
});

/** Samples with one VM whose `value` runs through `values` (t = 1, 2, …). */
function history(values: (number | null)[]): OvercommitSampleWire[] {
  return values.map((v, i) => ({
    t: i + 1, state: 'high', freePages: 100, reason: 'period',
    vms: [{ vmId: 1, allocated: v ?? 0, target: 0, balloonSize: 0, balloonTarget: 0, swapped: 0, shared: 0, workingSet: 0.5, rho: v, blocked: false }],
  }));
}

describe('overcommit model: charts', () => {
  const cases: { name: string; values: (number | null)[]; segments: number[]; infinite: number }[] = [
    { name: 'a steady line', values: [3, 3, 3, 3], segments: [4], infinite: 0 },
    { name: 'a ramp', values: [0, 1, 2, 3, 4, 5], segments: [6], infinite: 0 },
    { name: 'a gap in the middle', values: [1, 2, null, null, 3], segments: [2, 1], infinite: 2 },
    { name: 'starting infinite', values: [null, 5, 6], segments: [2], infinite: 1 },
    { name: 'all infinite', values: [null, null], segments: [], infinite: 2 },
    { name: 'one sample', values: [7], segments: [1], infinite: 0 },
  ];
  for (const c of cases) {
    it(`ρ: ${c.name} → segments ${JSON.stringify(c.segments)}, ${c.infinite} ∞`, () => {
      const chart = rhoChart(history(c.values), [{ vmId: 1, name: 'a' }], BOX);
      const s = chart.series[0];
      assert.deepEqual(s.segments.map((g) => g.length), c.segments);
      assert.equal(s.infinite.length, c.infinite);
      const finite = c.values.filter((v): v is number => v !== null);
      const max = Math.max(0, ...finite);
      for (const p of s.segments.flat()) {
        assert.ok(p.x >= BOX.left && p.x <= BOX.width - BOX.right);
        if (max > 0 && p.v === max) assert.equal(p.y, BOX.top, 'the largest value is on the top edge');
        if (p.v === 0) assert.equal(p.y, BOTTOM, 'zero is on the axis');
      }
    });
  }

  it('spans time from the first sample to the last', () => {
    const chart = lineChart(history([1, 2, 3]), [{ key: 'a', label: 'a', value: (s) => s.vms[0].rho }], BOX);
    assert.deepEqual(chart.sampleX, [BOX.left, (BOX.left + BOX.width - BOX.right) / 2, BOX.width - BOX.right]);
    // y: 180 − v/3 · 170 → 123.3, 66.7, 10 (rounded to 0.1 px).
    assert.equal(polylinePoints(chart.series[0].segments[0]), '50,123.3 320,66.7 590,10');
  });

  it('draws each VM\'s series with one point per sample, all on one scale whose top is the largest value', () => {
    for (const v of data.vms) {
      const chart = vmChart(data.history, v.vmId, BOX);
      assert.deepEqual(chart.series.map((s) => s.key), ['allocated', 'target', 'balloon', 'workingSet', 'swapped']);
      for (const s of chart.series) assert.deepEqual(s.segments.map((g) => g.length), [data.history.length], `${v.name} ${s.key}`);
      const all = chart.series.flatMap((s) => s.segments.flat());
      const max = Math.max(...all.map((p) => p.v));
      assert.equal(chart.y.max, max);
      assert.ok(all.filter((p) => p.v === max).every((p) => p.y === BOX.top));
    }
    const hidden = vmChart(data.history, 1, BOX, new Set(['target', 'swapped']));
    assert.deepEqual(hidden.series.map((s) => s.key), ['allocated', 'balloon', 'workingSet']);
  });

  it('puts free memory over the state bands, each band between its thresholds, the y axis at least twice high', () => {
    const chart = freeChart(data.history, data.totalPages, data.thresholds, BOX);
    assert.deepEqual(chart.bands.map((b) => [b.state, b.from, b.to]), [['low', 0, 1], ['hard', 1, 2], ['soft', 2, 4], ['high', 4, 12]]);
    for (const b of chart.bands) assert.ok(b.y0 <= b.y1 && Math.abs(b.y1 - chart.y.px(b.from)) < 1e-9);
    assert.equal(chart.bands[0].y1, BOTTOM);
    assert.deepEqual(chart.thresholdLines.map((t) => t.label), ['low 1 %', 'hard 2 %', 'soft 4 %', 'high 6 %']);
    assert.deepEqual(chart.stateRuns.map((r) => [r.state, r.from, r.to]), [['high', 0, 3], ['soft', 4, 5], ['hard', 6, 7], ['low', 8, 9], ['hard', 10, 10], ['soft', 11, 15], ['high', 16, 19]]);
    // Little free memory: the axis still reaches 2 × high so the bands can be read.
    const calm = freeChart(history([1, 1]), 10_000, data.thresholds, BOX);
    assert.equal(calm.y.max, 12);
  });

  it('finds the nearest sample to a pixel', () => {
    const chart = { sampleX: [10, 20, 40] };
    const table: [number, number][] = [[0, 0], [14, 0], [16, 1], [29, 1], [31, 2], [100, 2]];
    for (const [x, want] of table) assert.equal(nearestSample(chart, x), want, `x ${x}`);
    assert.equal(nearestSample({ sampleX: [] }, 5), undefined);
  });

  it('reads a sample out in words', () => {
    const lines = vmSampleText(data.history[8], 1, 'web');
    assert.equal(lines[0], 'web at 135.00 s (low, period rebalance)');
    assert.equal(lines[1], 'allocated 6,200 · target 6,200');
    assert.deepEqual(vmSampleText({ ...data.history[0], vms: [] }, 1, 'web').slice(1), ['not managed at this time']);
  });

  // Generated: ticks are round, inside the range, ascending, and about as many as asked.
  for (const [min, max, target] of [[0, 1, 4], [0, 12, 5], [0, 0.0731, 4], [0, 8192, 6], [15, 300, 7], [0, 123456, 3]] as const) {
    it(`ticks over [${min}, ${max}] (~${target})`, () => {
      const t = ticks(min, max, target);
      const step = niceStep(max - min, target);
      assert.ok(/^[125]$/.test(String(+(step / 10 ** Math.floor(Math.log10(step))).toPrecision(3))), `round step ${step}`);
      assert.ok(t.every((v, i) => v >= min && v <= max + 1e-9 && (i === 0 || v > t[i - 1])));
      assert.ok(t.length >= Math.max(1, Math.floor(target / 2.5)) && t.length <= target * 2.5 + 1, `${t.length} ticks`);
    });
  }
});

describe('overcommit model: a real machine\'s snapshot', function () {
  this.timeout(60_000);

  it('charts every rebalance of every VM, the idle VM\'s allocation falling as the busy one\'s holds', () => {
    const { machine, vms } = runOvercommitted(3_000_000);
    const w = overcommitPayload(createInspectTarget(machine, vms.map((v) => ({ vm: v.vm, name: v.name })))) as OvercommitWire;
    assert.ok(w.history.length >= 20, `${w.history.length} samples`);
    for (const v of w.vms) {
      const chart = vmChart(w.history, v.vmId, BOX);
      for (const s of chart.series) assert.equal(s.segments.flat().length, w.history.length, `${v.name} ${s.key}`);
    }
    const idle = w.vms.find((v) => v.name === 'idle')!;
    const busy = w.vms.find((v) => v.name === 'busy')!;
    const alloc = (name: typeof idle, i: number): number => w.history[i].vms.find((x) => x.vmId === name.vmId)!.allocated;
    const last = w.history.length - 1;
    const peak = Math.max(...w.history.map((_, i) => alloc(idle, i)));
    assert.ok(alloc(idle, last) < peak, `idle gives memory back: peak ${peak} → ${alloc(idle, last)}`);
    assert.ok(alloc(busy, last) >= alloc(idle, last), 'the busy VM ends with more');
    const rho = rhoChart(w.history, w.vms, BOX);
    assert.equal(rho.series.length, 2);
  });
});
