// The Memory Overcommit view model: the header's words, one table row per VM, and the charts
// over the scheduler's history (per VM allocation / target / balloon / working set / swapped in
// pages, ρ per VM, free memory against the reclamation thresholds) as plain geometry. Pure and
// DOM-free: unit-tested in node; main.ts only turns it into elements.
import type { OvercommitSampleWire, OvercommitVmWire, OvercommitWire, RhoWire } from '../../debugAdapter/viewsProtocol';
import { count } from '../shared/format';

export type ReclaimStateName = OvercommitWire['state'];

/** Highest (least pressure) first, as the engine orders them. */
export const STATES: readonly ReclaimStateName[] = ['high', 'soft', 'hard', 'low'];

// ---------------------------------------------------------------- numbers in words

/** Simulated seconds: "12.35 s" (ms below a second, so early samples are not all "0.00 s"). */
export function seconds(s: number): string {
  if (s !== 0 && Math.abs(s) < 1) return `${+(s * 1000).toFixed(1)} ms`;
  return `${s.toFixed(2)} s`;
}

/** ρ with three significant digits; null is +∞ (the VM holds no pages: nothing to reclaim). */
export function rhoText(rho: RhoWire): string {
  if (rho === null) return '∞';
  if (rho === 0) return '0';
  return Math.abs(rho) >= 1000 ? count(Math.round(rho)) : String(+rho.toPrecision(3));
}

export function percent(fraction: number, digits = 1): string {
  return `${+(fraction * 100).toFixed(digits)} %`;
}

/** Pages of 4 KiB in MiB (hover titles). */
export function mib(pages: number): string {
  return `${+((pages * 4096) / (1024 * 1024)).toFixed(2)} MiB`;
}

/** Working-set pages: the estimate f applied to the private frames P the VM holds (f·P, as ρ uses it). */
export function workingSetPages(f: number, allocated: number): number {
  return Math.round(f * allocated);
}

/** A VM's throughput: retired instructions over instructions plus stall cycles. */
export function throughput(instructions: number, stallCycles: number): number | null {
  const all = instructions + stallCycles;
  return all > 0 ? instructions / all : null;
}

// ---------------------------------------------------------------- header

export interface HeaderModel {
  time: string;
  state: ReclaimStateName;
  freePercent: number;
  free: string;
  thresholds: string;
  policy: string;
  rebalances: string;
  sharing: string;
  swap: string;
}

export function headerModel(w: OvercommitWire): HeaderModel {
  const freePercent = w.totalPages > 0 ? (100 * w.freePages) / w.totalPages : 0;
  const t = w.thresholds;
  const sh = w.sharing;
  return {
    time: `${seconds(w.seconds)} simulated`,
    state: w.state,
    freePercent,
    free: `${+freePercent.toFixed(2)} % free (${count(w.freePages)} of ${count(w.totalPages)} machine pages)`,
    thresholds: `enters soft below ${t.soft} %, hard below ${t.hard} %, low below ${t.low} % free; back to high only well above ${t.high} %`,
    policy: `policy ${w.policy} · τ ${w.tau} · swap victims ${w.victim}`,
    rebalances: `${count(w.rebalances)} rebalance${w.rebalances === 1 ? '' : 's'}${w.resolution > 1 ? ` · charts keep every ${w.resolution}th` : ''}`,
    sharing: !sh ? 'no page sharing' : !sh.enabled ? 'page sharing off'
      : `sharing: ${count(sh.pagesShared)} shared frames, ${count(sh.pagesSharing)} pages sharing, ${count(sh.zeroPages)} zero pages, ${count(sh.savedPages)} pages saved (${mib(sh.savedPages)}), ${count(sh.cowBreaks)} COW breaks, ${count(sh.fullScans)} full scans`,
    swap: `hypervisor swap: ${count(w.swap.swappedOut)} pages out in ${count(w.swap.clusters)} writes, ${count(w.swap.sharedInstead)} shared instead, ${count(w.swap.shortfall)} short`,
  };
}

/** What each state does (reclaimState.ts): the header's hover text for the state badge. */
export const STATE_ACTIONS: Record<ReclaimStateName, string> = {
  high: 'high: enough free memory — nothing is reclaimed',
  soft: 'soft: balloons reclaim; VMs whose balloon cannot deliver are swapped',
  hard: 'hard: every VM above its target is swapped down to it now; balloons keep reclaiming',
  low: 'low: as hard, and VMs above their target are blocked until they are below it',
};

// ---------------------------------------------------------------- the table

export type ColumnKey =
  | 'name' | 'min' | 'max' | 'shares' | 'private' | 'shared' | 'ballooned' | 'swapped' | 'target'
  | 'balloon' | 'balloonCap' | 'balloonWhy' | 'workingSet' | 'rho' | 'blocked' | 'stall';

export interface Column {
  key: ColumnKey;
  label: string;
  /** The group header above it. */
  group: string;
  numeric: boolean;
  title: string;
}

export const COLUMNS: readonly Column[] = [
  { key: 'name', label: 'VM', group: '', numeric: false, title: 'The VM' },
  { key: 'min', label: 'min', group: 'configured (pages)', numeric: true, title: 'Reservation: pages the VM is always guaranteed' },
  { key: 'max', label: 'max', group: 'configured (pages)', numeric: true, title: 'Limit: the most pages the VM can hold' },
  { key: 'shares', label: 'shares', group: 'configured (pages)', numeric: true, title: 'Memory shares S' },
  { key: 'private', label: 'allocated', group: 'guest pages by state', numeric: true, title: 'Private machine frames the VM holds (P in ρ)' },
  { key: 'shared', label: 'shared', group: 'guest pages by state', numeric: true, title: 'Guest pages mapping a shared frame (copy-on-write)' },
  { key: 'ballooned', label: 'ballooned', group: 'guest pages by state', numeric: true, title: 'Guest pages handed to the balloon: no frame' },
  { key: 'swapped', label: 'swapped', group: 'guest pages by state', numeric: true, title: 'Guest pages in the VM\'s swap file: no frame' },
  { key: 'target', label: 'target', group: 'scheduler', numeric: true, title: 'The scheduler\'s allocation target (pages)' },
  { key: 'workingSet', label: 'working set', group: 'scheduler', numeric: true, title: 'Estimated active fraction f, and f × allocated in pages' },
  { key: 'rho', label: 'ρ', group: 'scheduler', numeric: true, title: 'Shares per page ρ = S / (P·(f + k(1−f))), k = 1/(1−τ): the lowest ρ is reclaimed from first' },
  { key: 'blocked', label: 'blocked', group: 'scheduler', numeric: false, title: 'Stopped by the scheduler (low state, above target)' },
  { key: 'balloon', label: 'size / target', group: 'balloon (pages)', numeric: true, title: 'Pages in the balloon / the scheduler\'s balloon target' },
  { key: 'balloonCap', label: 'cap', group: 'balloon (pages)', numeric: true, title: 'The guest\'s cap on its balloon' },
  { key: 'balloonWhy', label: 'cannot reclaim because', group: 'balloon (pages)', numeric: false, title: 'Why the balloon cannot deliver now (the scheduler swaps instead)' },
  { key: 'stall', label: 'stall cycles', group: 'time', numeric: true, title: 'Cycles the VM waited on swap-ins and its guest disk; throughput = instructions / (instructions + stalls)' },
];

export interface Cell {
  text: string;
  /** Hover text (units, the other form of the value). */
  title?: string;
  /** Marks for CSS: 'warn' (blocked, balloon cannot deliver), 'muted' (nothing to say). */
  mark?: 'warn' | 'muted';
}

export interface VmRow {
  vmId: number;
  cells: Record<ColumnKey, Cell>;
}

const pagesCell = (n: number): Cell => ({ text: count(n), title: `${count(n)} pages = ${mib(n)}` });

export function vmRow(v: OvercommitVmWire): VmRow {
  const b = v.balloon;
  const tp = throughput(v.instructions, v.stallCycles);
  const cells: Record<ColumnKey, Cell> = {
    name: { text: v.name, title: `VM ${v.vmId}` },
    min: pagesCell(v.minPages),
    max: pagesCell(v.maxPages),
    shares: { text: count(v.shares) },
    private: pagesCell(v.pages.private),
    shared: pagesCell(v.pages.shared),
    ballooned: pagesCell(v.pages.ballooned),
    swapped: pagesCell(v.pages.swapped),
    target: v.target === null ? { text: '—', title: 'no rebalance yet', mark: 'muted' } : pagesCell(v.target),
    workingSet: v.workingSet === null
      ? { text: 'not sampled', title: 'The VM is not sampled: it counts as fully active (never taxed)', mark: 'muted' }
      : { text: `${percent(v.workingSet)} ≈ ${count(workingSetPages(v.workingSet, v.pages.private))}`, title: `f = ${v.workingSet.toFixed(3)} of ${count(v.pages.private)} allocated pages` },
    rho: { text: rhoText(v.rho), title: v.rho === null ? 'ρ = ∞: the VM holds no pages, so none can be reclaimed from it' : `ρ = ${v.rho}` },
    blocked: v.blocked ? { text: 'blocked', title: 'Low state: not run until it is at or below its target', mark: 'warn' } : { text: 'no', mark: 'muted' },
    balloon: b ? { text: `${count(b.size)} / ${count(b.target)}`, title: `${mib(b.size)} in the balloon; ${count(b.pops)} pops (the guest touched a ballooned page)` } : { text: 'no balloon', title: 'The VM has no balloon device', mark: 'muted' },
    balloonCap: !b ? { text: '—', mark: 'muted' } : b.limit === null ? { text: 'not announced', title: 'The driver has not told the device its cap', mark: 'muted' } : pagesCell(b.limit),
    balloonWhy: !b ? { text: 'no balloon device', mark: 'warn' } : b.whyNot === null ? { text: '—', title: 'The balloon can reclaim', mark: 'muted' } : { text: b.whyNot, mark: 'warn' },
    stall: { text: count(v.stallCycles), title: tp === null ? 'no cycles yet' : `throughput ${percent(tp)} (${count(v.instructions)} instructions)` },
  };
  return { vmId: v.vmId, cells };
}

// ---------------------------------------------------------------- charts

export interface Box {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export interface Scale {
  min: number;
  max: number;
  /** Value → pixel. */
  px(v: number): number;
}

export interface ChartPoint {
  /** Index of the sample in the history. */
  i: number;
  t: number;
  v: number;
  x: number;
  y: number;
}

export interface ChartSeries {
  key: string;
  label: string;
  /** Runs of consecutive points; a sample without a value (ρ = ∞) breaks the line. */
  segments: ChartPoint[][];
  /** Samples whose value is off the scale (ρ = ∞), drawn as marks along the top. */
  infinite: { i: number; t: number; x: number }[];
}

export interface Chart {
  box: Box;
  x: Scale;
  y: Scale;
  xTicks: number[];
  yTicks: number[];
  series: ChartSeries[];
  /** x of each sample (for the hover cursor). */
  sampleX: number[];
}

/** How values map to height: linear; square root (spreads the few-percent bands of free memory);
 *  logarithmic (ρ spans orders of magnitude: a VM holding a few pages against one holding thousands). */
export type ScaleKind = 'linear' | 'sqrt' | 'log';

function linear(min: number, max: number, from: number, to: number): Scale {
  const span = max - min;
  return { min, max, px: (v) => (span === 0 ? (from + to) / 2 : from + ((v - min) / span) * (to - from)) };
}

function sqrtScale(max: number, from: number, to: number): Scale {
  return { min: 0, max, px: (v) => from + Math.sqrt(Math.max(0, v) / max) * (to - from) };
}

/** Values ≤ 0 sit on the axis (from). */
function logScale(min: number, max: number, from: number, to: number): Scale {
  const l0 = Math.log10(min);
  const span = Math.log10(max) - l0;
  return { min, max, px: (v) => (v <= 0 ? from : from + ((Math.log10(v) - l0) / span) * (to - from)) };
}

/** Ticks of a log axis: the powers of ten inside [min, max], with 2× and 5× when that gives too few. */
export function logTicks(min: number, max: number): number[] {
  const inside = (v: number): boolean => v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9);
  for (const mults of [[1], [1, 2, 5], [1, 1.5, 2, 3, 5, 7]]) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
      for (const m of mults) if (inside(m * 10 ** e)) out.push(+(m * 10 ** e).toPrecision(6));
    }
    if (out.length >= 3) return out;
  }
  return [+min.toPrecision(3), +max.toPrecision(3)];
}

/** A round step (1, 2, 5 × 10^k) giving about `target` steps over `span`. */
export function niceStep(span: number, target: number): number {
  const raw = Math.max(Number.MIN_VALUE, span / Math.max(1, target));
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** Round ticks in [min, max]. */
export function ticks(min: number, max: number, target: number): number[] {
  if (!(max > min)) return [min];
  const step = niceStep(max - min, target);
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

interface SeriesSpec {
  key: string;
  label: string;
  /** The value at a sample, or null when it has none (ρ = ∞). */
  value(s: OvercommitSampleWire): number | null;
}

export interface ChartOptions {
  /** The y axis reaches at least this far. */
  yMaxAtLeast?: number;
  scale?: ScaleKind;
}

/**
 * Lays out series over the history: x is simulated time from the first to the last sample, y
 * from 0 (log: the smallest positive value) to the largest value shown, so the extreme samples
 * touch the top and bottom of the plot.
 */
export function lineChart(history: readonly OvercommitSampleWire[], specs: readonly SeriesSpec[], box: Box, options: ChartOptions = {}): Chart {
  const t0 = history.length ? history[0].t : 0;
  const t1 = history.length ? history[history.length - 1].t : 1;
  const x = linear(t0, t1 > t0 ? t1 : t0 + 1, box.left, box.width - box.right);
  let yMax = options.yMaxAtLeast ?? 0;
  let yMinPositive = Infinity;
  for (const s of history) for (const spec of specs) {
    const v = spec.value(s);
    if (v === null) continue;
    if (v > yMax) yMax = v;
    if (v > 0 && v < yMinPositive) yMinPositive = v;
  }
  if (yMax <= 0) yMax = 1;
  const bottom = box.height - box.bottom;
  const kind = options.scale ?? 'linear';
  // A log axis needs a range: one value (or none) gets the decade below it.
  const logMin = Number.isFinite(yMinPositive) && yMinPositive < yMax ? yMinPositive : yMax / 10;
  const y = kind === 'sqrt' ? sqrtScale(yMax, bottom, box.top) : kind === 'log' ? logScale(logMin, yMax, bottom, box.top) : linear(0, yMax, bottom, box.top);
  const series = specs.map((spec): ChartSeries => {
    const segments: ChartPoint[][] = [];
    const infinite: ChartSeries['infinite'] = [];
    let run: ChartPoint[] | null = null;
    history.forEach((s, i) => {
      const v = spec.value(s);
      if (v === null) {
        infinite.push({ i, t: s.t, x: x.px(s.t) });
        run = null;
        return;
      }
      if (!run) segments.push((run = []));
      run.push({ i, t: s.t, v, x: x.px(s.t), y: y.px(v) });
    });
    return { key: spec.key, label: spec.label, segments, infinite };
  });
  return {
    box, x, y, series,
    xTicks: ticks(x.min, x.max, Math.max(2, Math.floor((box.width - box.left - box.right) / 80))),
    yTicks: kind === 'log' ? logTicks(logMin, yMax) : ticks(0, yMax, Math.max(2, Math.floor((box.height - box.top - box.bottom) / 30))),
    sampleX: history.map((s) => x.px(s.t)),
  };
}

/** "x1,y1 x2,y2 …" for an SVG polyline, rounded to 0.1 px. */
export function polylinePoints(points: readonly ChartPoint[]): string {
  return points.map((p) => `${+p.x.toFixed(1)},${+p.y.toFixed(1)}`).join(' ');
}

/** The VM's sample in a history sample, if the VM was managed then. */
export function vmSample(s: OvercommitSampleWire, vmId: number): OvercommitSampleWire['vms'][number] | undefined {
  return s.vms.find((v) => v.vmId === vmId);
}

/** The per-VM allocation chart's series, in drawing order. */
export const VM_SERIES: readonly { key: string; label: string; title: string }[] = [
  { key: 'allocated', label: 'allocated', title: 'Private machine frames the VM holds' },
  { key: 'target', label: 'target', title: 'The scheduler\'s allocation target' },
  { key: 'balloon', label: 'balloon', title: 'Pages in the balloon' },
  { key: 'workingSet', label: 'working set', title: 'Working-set estimate f × allocated' },
  { key: 'swapped', label: 'swapped', title: 'Pages in the VM\'s swap file' },
];

export function vmChart(history: readonly OvercommitSampleWire[], vmId: number, box: Box, hidden: ReadonlySet<string> = new Set()): Chart {
  const pick = (f: (v: NonNullable<ReturnType<typeof vmSample>>) => number) => (s: OvercommitSampleWire): number | null => {
    const v = vmSample(s, vmId);
    return v ? f(v) : null;
  };
  const values: Record<string, (s: OvercommitSampleWire) => number | null> = {
    allocated: pick((v) => v.allocated),
    target: pick((v) => v.target),
    balloon: pick((v) => v.balloonSize),
    workingSet: pick((v) => workingSetPages(v.workingSet, v.allocated)),
    swapped: pick((v) => v.swapped),
  };
  return lineChart(history, VM_SERIES.filter((s) => !hidden.has(s.key)).map((s) => ({ key: s.key, label: s.label, value: values[s.key] })), box);
}

/** ρ per VM over time on a log axis; a VM holding no pages (ρ = ∞) leaves a gap with a mark on top. */
export function rhoChart(history: readonly OvercommitSampleWire[], vms: readonly { vmId: number; name: string }[], box: Box): Chart {
  return lineChart(history, vms.map((vm) => ({
    key: `vm${vm.vmId}`,
    label: vm.name,
    value: (s: OvercommitSampleWire) => vmSample(s, vm.vmId)?.rho ?? null,
  })), box, { scale: 'log' });
}

export interface Band {
  state: ReclaimStateName;
  /** Free-memory percentages [from, to) of the band. */
  from: number;
  to: number;
  y0: number;
  y1: number;
}

export interface FreeChart extends Chart {
  bands: Band[];
  /** The thresholds as lines: each state's entry level, and high's (the level soft returns to high above). */
  thresholdLines: { label: string; value: number; y: number }[];
  /** The state of each sample as runs along the time axis. */
  stateRuns: { state: ReclaimStateName; x0: number; x1: number; from: number; to: number }[];
}

/**
 * Free machine memory (% of the machine) over time over the state bands: below low, low–hard,
 * hard–soft, soft and above (high or soft: the dead zone the state keeps, up to high's exit).
 * The y axis reaches at least twice the high threshold and is a square-root scale, so the bands
 * of a few percent stay readable next to a machine that starts nearly empty.
 */
export function freeChart(history: readonly OvercommitSampleWire[], totalPages: number, th: OvercommitWire['thresholds'], box: Box): FreeChart {
  const pct = (s: OvercommitSampleWire): number => (totalPages > 0 ? (100 * s.freePages) / totalPages : 0);
  const base = lineChart(history, [{ key: 'free', label: 'free memory', value: pct }], box, { yMaxAtLeast: th.high * 2, scale: 'sqrt' });
  // Ticks at the thresholds, then round values above them.
  const above = [10, 20, 50, 100].filter((v) => v > th.high * 1.5 && v <= base.y.max);
  const chart: Chart = { ...base, yTicks: [0, th.low, th.hard, th.soft, th.high, ...above].filter((v) => v <= base.y.max) };
  const top = chart.y.max;
  const edges: [ReclaimStateName, number, number][] = [['low', 0, th.low], ['hard', th.low, th.hard], ['soft', th.hard, th.soft], ['high', th.soft, top]];
  const bands = edges.map(([state, from, to]) => ({ state, from, to, y0: chart.y.px(to), y1: chart.y.px(from) }));
  const stateRuns: FreeChart['stateRuns'] = [];
  history.forEach((s, i) => {
    // A sample's state holds from its time to the next sample's.
    const x0 = chart.sampleX[i];
    const x1 = i + 1 < history.length ? chart.sampleX[i + 1] : x0;
    const last = stateRuns[stateRuns.length - 1];
    if (last && last.state === s.state) {
      last.x1 = x1;
      last.to = i;
    } else stateRuns.push({ state: s.state, x0, x1, from: i, to: i });
  });
  const thresholdLines = ([['low', th.low], ['hard', th.hard], ['soft', th.soft], ['high', th.high]] as const)
    .map(([name, value]) => ({ label: `${name} ${value} %`, value, y: chart.y.px(value) }));
  return { ...chart, bands, thresholdLines, stateRuns };
}

/** The sample nearest to pixel x (the hover cursor). */
export function nearestSample(chart: Pick<Chart, 'sampleX'>, x: number): number | undefined {
  let best: number | undefined;
  chart.sampleX.forEach((sx, i) => {
    if (best === undefined || Math.abs(sx - x) < Math.abs(chart.sampleX[best] - x)) best = i;
  });
  return best;
}

/** Hover / keyboard text for one sample of a VM's chart. */
export function vmSampleText(s: OvercommitSampleWire, vmId: number, name: string): string[] {
  const v = vmSample(s, vmId);
  const head = `${name} at ${seconds(s.t)} (${s.state}, ${s.reason} rebalance)`;
  if (!v) return [head, 'not managed at this time'];
  return [
    head,
    `allocated ${count(v.allocated)} · target ${count(v.target)}`,
    `balloon ${count(v.balloonSize)} (target ${count(v.balloonTarget)}) · swapped ${count(v.swapped)} · shared ${count(v.shared)}`,
    `working set ${percent(v.workingSet)} ≈ ${count(workingSetPages(v.workingSet, v.allocated))} pages · ρ ${rhoText(v.rho)}${v.blocked ? ' · blocked' : ''}`,
  ];
}

export function rhoSampleText(s: OvercommitSampleWire, names: ReadonlyMap<number, string>): string[] {
  return [`ρ at ${seconds(s.t)} (${s.state})`, ...s.vms.map((v) => `${names.get(v.vmId) ?? `VM ${v.vmId}`}: ${rhoText(v.rho)}`)];
}

export function freeSampleText(s: OvercommitSampleWire, totalPages: number): string[] {
  const p = totalPages > 0 ? (100 * s.freePages) / totalPages : 0;
  return [`free at ${seconds(s.t)}: ${+p.toFixed(2)} % (${count(s.freePages)} pages)`, `state ${s.state} · ${s.reason} rebalance`];
}
