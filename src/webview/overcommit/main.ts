// The Memory Overcommit webview: the memory scheduler at this stop (simulated time, reclamation
// state, free memory against the thresholds), a row per VM (configuration, pages by state,
// target, balloon, working set, ρ, blocking, stalls) and hand-drawn SVG charts over the
// scheduler's history: per VM allocation / target / balloon / working set / swapped, ρ per VM,
// free memory over the state bands. Hover or arrow keys on a chart read out a sample.
import { hasType } from '../shared/messages';
import type { OvercommitHostMessage, OvercommitIntent, OvercommitMessage, OvercommitViewState, PhaseMessage } from '../shared/messages';
import type { OvercommitWire } from '../../debugAdapter/viewsProtocol';
import { hostChannel } from '../shared/vscodeApi';
import { h, icon, mount, replace, svg } from '../shared/dom';
import type { Child } from '../shared/dom';
import { clearBanner, noSessionPlaceholder, showRunning, waitingPlaceholder } from '../shared/status';
import {
  COLUMNS, STATES, STATE_ACTIONS, VM_SERIES, freeChart, freeSampleText, headerModel, nearestSample, polylinePoints, rhoChart,
  rhoSampleText, vmChart, vmRow, vmSampleText,
} from './model';
import type { Box, Chart, FreeChart } from './model';

const host = hostChannel<OvercommitIntent, OvercommitViewState>();
let state: OvercommitViewState = host.getState() ?? {};
const hidden = new Set<string>(state.hiddenSeries ?? []);

const VM_CHART_H = 170;
const WIDE_CHART_H = 190;
const PAD = { left: 52, right: 12, top: 14, bottom: 24 };
/** ρ lines cycle through these classes (theme chart colours, with dash patterns for contrast themes). */
const VM_COLOURS = 6;

const summary = h('div', { class: 'summary' });
const banner = h('div', { class: 'banner', role: 'status', 'aria-live': 'polite' });
const empty = h('div', { class: 'placeholder' });
const content = h('div', { class: 'content' });
const tooltip = h('div', { class: 'tooltip', hidden: true, role: 'tooltip' });
const live = h('p', { class: 'sr-only', 'aria-live': 'polite' });
mount(h('header', {}, summary), banner, empty, content, tooltip, live);

let last: OvercommitWire | undefined;

function save(): void {
  state = { hiddenSeries: [...hidden] };
  host.setState(state);
}

// ---------------------------------------------------------------- header

function stateBadge(s: OvercommitWire['state']): HTMLElement {
  return h('span', { class: `state-badge state-${s}`, title: STATE_ACTIONS[s] }, s);
}

/** Free memory on a bar from 0 to twice the high threshold (or more), over the state bands. */
function freeGauge(w: OvercommitWire, freePercent: number): SVGSVGElement {
  const W = 320;
  const H = 30;
  const max = Math.max(w.thresholds.high * 2, Math.min(100, Math.ceil(freePercent * 1.1)));
  const x = (p: number): number => 4 + (Math.min(p, max) / max) * (W - 8);
  const t = w.thresholds;
  const root = svg('svg', { width: W, height: H, class: 'gauge', role: 'img', 'aria-label': `free memory ${freePercent.toFixed(2)} %: state ${w.state}` });
  const bands: [OvercommitWire['state'], number, number][] = [['low', 0, t.low], ['hard', t.low, t.hard], ['soft', t.hard, t.soft], ['high', t.soft, max]];
  for (const [s, a, b] of bands) root.append(svg('rect', { x: x(a), y: 4, width: Math.max(0, x(b) - x(a)), height: 12, class: `band band-${s}` }, svg('title', {}, `${s}: ${a}–${b === max ? '' : b} % free`)));
  for (const v of [t.low, t.hard, t.soft, t.high]) {
    root.append(svg('line', { x1: x(v), x2: x(v), y1: 2, y2: 18, class: 'threshold' }), svg('text', { x: x(v), y: 28, class: 'axis-label', 'text-anchor': 'middle' }, `${v}`));
  }
  root.append(svg('path', { d: `M ${x(freePercent)} 18 l -5 -8 h 10 z`, class: 'free-marker' }, svg('title', {}, `${freePercent.toFixed(2)} % free`)));
  return root;
}

function renderHeader(w: OvercommitWire, stopText: string): void {
  const m = headerModel(w);
  replace(summary,
    h('div', { class: 'headline' },
      h('strong', { class: 'time' }, m.time), ' · ', stateBadge(w.state), ' · ', h('span', { class: 'free' }, m.free), ' ', freeGauge(w, m.freePercent),
      stopText ? h('span', { class: 'stop' }, ` · ${stopText}`) : null),
    h('div', { class: 'detail thresholds' }, m.thresholds),
    h('div', { class: 'detail policy' }, `${m.policy} · ${m.rebalances}`),
    h('div', { class: 'detail sharing' }, m.sharing),
    h('div', { class: 'detail swap' }, m.swap));
}

// ---------------------------------------------------------------- table

function renderTable(w: OvercommitWire): HTMLElement {
  const groups: { label: string; span: number }[] = [];
  for (const c of COLUMNS) {
    const g = groups[groups.length - 1];
    if (g && g.label === c.group) g.span++;
    else groups.push({ label: c.group, span: 1 });
  }
  const table = h('table', { class: 'vm-table' },
    h('caption', {}, 'Per VM, now (pages of 4 KiB; hover a value for more)'),
    h('thead', {},
      h('tr', { class: 'groups' }, ...groups.map((g) => h('th', { colspan: g.span, scope: 'colgroup' }, g.label))),
      h('tr', {}, ...COLUMNS.map((c) => h('th', { scope: 'col', title: c.title, class: c.numeric ? 'num' : '' }, c.label)))),
    h('tbody', {}, ...w.vms.map((v) => {
      const row = vmRow(v);
      return h('tr', { 'data-vm': v.vmId }, ...COLUMNS.map((c) => {
        const cell = row.cells[c.key];
        const cls = [c.numeric ? 'num' : '', cell.mark ?? ''].filter(Boolean).join(' ');
        return c.key === 'name'
          ? h('th', { scope: 'row', 'data-col': c.key, title: cell.title }, cell.text)
          : h('td', { 'data-col': c.key, title: cell.title, class: cls }, cell.text);
      }));
    })));
  return h('div', { class: 'table-wrap' }, table);
}

// ---------------------------------------------------------------- charts

interface DrawnChart {
  chart: Chart;
  describe(i: number): string[];
}

function box(width: number, height: number): Box {
  return { width, height, ...PAD };
}

function axes(root: SVGSVGElement, c: Chart, yFormat: (v: number) => string): void {
  const { box: b } = c;
  // Labels closer than a line of text to the last one drawn are left out (their gridline stays).
  let lastLabel = Infinity;
  for (const t of c.yTicks) {
    const y = c.y.px(t);
    root.append(svg('line', { x1: b.left, x2: b.width - b.right, y1: y, y2: y, class: 'gridline' }));
    if (Math.abs(lastLabel - y) < 11) continue;
    lastLabel = y;
    root.append(svg('text', { x: b.left - 6, y: y + 4, class: 'axis-label', 'text-anchor': 'end' }, yFormat(t)));
  }
  for (const t of c.xTicks) {
    root.append(svg('text', { x: c.x.px(t), y: b.height - 8, class: 'axis-label', 'text-anchor': 'middle' }, `${+t.toFixed(3)} s`));
  }
  root.append(svg('line', { x1: b.left, x2: b.width - b.right, y1: b.height - b.bottom, y2: b.height - b.bottom, class: 'axis' }),
    svg('line', { x1: b.left, x2: b.left, y1: b.top, y2: b.height - b.bottom, class: 'axis' }));
}

function lines(root: SVGSVGElement, c: Chart, classOf: (key: string) => string): void {
  for (const s of c.series) {
    const g = svg('g', { class: `series ${classOf(s.key)}`, 'data-series': s.key });
    for (const seg of s.segments) {
      g.append(seg.length === 1
        ? svg('circle', { cx: seg[0].x, cy: seg[0].y, r: 2.5, class: 'dot' })
        : svg('polyline', { points: polylinePoints(seg), class: 'line' }));
    }
    for (const inf of s.infinite) g.append(svg('text', { x: inf.x, y: c.box.top - 2, class: 'infinite', 'text-anchor': 'middle' }, '∞'));
    root.append(g);
  }
}

/** Hover and arrow keys move a cursor over the samples; the tooltip and the live region read it. */
function interactive(wrap: HTMLElement, root: SVGSVGElement, drawn: DrawnChart): void {
  const { chart } = drawn;
  const cursor = svg('line', { x1: 0, x2: 0, y1: chart.box.top, y2: chart.box.height - chart.box.bottom, class: 'cursor', visibility: 'hidden' });
  root.append(cursor);
  let at: number | undefined;
  const show = (i: number, clientX?: number, clientY?: number): void => {
    at = i;
    const x = chart.sampleX[i];
    cursor.setAttribute('x1', String(x));
    cursor.setAttribute('x2', String(x));
    cursor.setAttribute('visibility', 'visible');
    wrap.dataset.sample = String(i);
    const text = drawn.describe(i);
    replace(tooltip, ...text.map((l) => h('div', {}, l)));
    tooltip.hidden = false;
    const r = wrap.getBoundingClientRect();
    const cx = clientX ?? r.left + x;
    const cy = clientY ?? r.top + chart.box.top;
    tooltip.style.setProperty('left', `${Math.max(4, Math.min(cx + 14, window.innerWidth - tooltip.offsetWidth - 4))}px`);
    tooltip.style.setProperty('top', `${cy + 16}px`);
    if (clientX === undefined) live.textContent = text.join('; ');
  };
  const hide = (): void => {
    cursor.setAttribute('visibility', 'hidden');
    tooltip.hidden = true;
    delete wrap.dataset.sample;
  };
  wrap.addEventListener('mousemove', (ev) => {
    const r = root.getBoundingClientRect();
    const i = nearestSample(chart, ev.clientX - r.left);
    if (i !== undefined) show(i, ev.clientX, ev.clientY);
  });
  wrap.addEventListener('mouseleave', hide);
  wrap.addEventListener('blur', hide);
  wrap.addEventListener('keydown', (ev) => {
    const n = chart.sampleX.length;
    if (!n) return;
    let i: number | undefined;
    if (ev.key === 'ArrowRight') i = at === undefined ? 0 : Math.min(n - 1, at + 1);
    else if (ev.key === 'ArrowLeft') i = at === undefined ? n - 1 : Math.max(0, at - 1);
    else if (ev.key === 'Home') i = 0;
    else if (ev.key === 'End') i = n - 1;
    else if (ev.key === 'Escape') {
      hide();
      return;
    } else return;
    ev.preventDefault();
    show(i);
  });
}

function chartBox(label: string, cls: string, attrs: Record<string, string | number>, draw: (width: number) => { root: SVGSVGElement; drawn: DrawnChart }, width: number): HTMLElement {
  const wrap = h('div', {
    class: `chart ${cls}`, tabindex: '0', role: 'group', ...attrs,
    'aria-label': `${label}. Left and right arrows read the samples.`,
  });
  const { root, drawn } = draw(width);
  wrap.append(root);
  interactive(wrap, root, drawn);
  return wrap;
}

function legendButtons(): HTMLElement {
  return h('div', { class: 'series-legend', role: 'group', 'aria-label': 'Series of the per-VM charts (click to hide or show)' },
    ...VM_SERIES.map((s) => {
      const off = hidden.has(s.key);
      const b = h('button', { type: 'button', class: 'series-toggle', 'data-series': s.key, 'aria-pressed': String(!off), title: `${s.title} — click to ${off ? 'show' : 'hide'}` },
        h('span', { class: `swatch series-${s.key}`, 'aria-hidden': 'true' }), ` ${s.label}`);
      b.addEventListener('click', () => {
        if (hidden.has(s.key)) hidden.delete(s.key);
        else hidden.add(s.key);
        save();
        render();
      });
      return b;
    }));
}

function vmCharts(w: OvercommitWire, width: number): HTMLElement {
  const history = w.history;
  const cols = width >= 900 ? 2 : 1;
  const each = Math.max(260, Math.floor((width - (cols - 1) * 12) / cols));
  return h('div', { class: 'vm-charts' }, ...w.vms.map((v) => h('figure', { class: 'vm-figure' },
    h('figcaption', {}, v.name),
    chartBox(`${v.name}: pages allocated, target, balloon, working set and swapped over simulated time`, 'vm-chart', { 'data-vm': v.vmId }, (wd) => {
      const chart = vmChart(history, v.vmId, box(wd, VM_CHART_H), hidden);
      const root = svg('svg', { width: wd, height: VM_CHART_H, 'aria-hidden': 'true' });
      axes(root, chart, shortPages);
      lines(root, chart, (k) => `series-${k}`);
      return { root, drawn: { chart, describe: (i) => vmSampleText(history[i], v.vmId, v.name) } };
    }, each))));
}

function rhoSection(w: OvercommitWire, width: number): HTMLElement {
  const names = new Map(w.vms.map((v) => [v.vmId, v.name]));
  const colour = (vmId: number): string => `vm-c${w.vms.findIndex((v) => v.vmId === vmId) % VM_COLOURS}`;
  const legend = h('div', { class: 'series-legend static' }, ...w.vms.map((v) => h('span', { class: 'legend-item' }, h('span', { class: `swatch ${colour(v.vmId)}`, 'aria-hidden': 'true' }), ` ${v.name}`)),
    h('span', { class: 'legend-item hint' }, '∞ on top: the VM held no pages'));
  const chart = chartBox('ρ (shares per page) per VM over simulated time', 'rho-chart', {}, (wd) => {
    const c = rhoChart(w.history, w.vms, box(wd, WIDE_CHART_H));
    const root = svg('svg', { width: wd, height: WIDE_CHART_H, 'aria-hidden': 'true' });
    axes(root, c, (v) => String(+v.toPrecision(3)));
    lines(root, c, (k) => colour(Number(k.slice(2))));
    return { root, drawn: { chart: c, describe: (i) => rhoSampleText(w.history[i], names) } };
  }, width);
  return h('section', {}, h('h2', {}, 'ρ per VM — reclaimed from the lowest first', h('span', { class: 'subtitle' }, 'log scale')), legend, chart);
}

function freeSection(w: OvercommitWire, width: number): HTMLElement {
  const legend = h('div', { class: 'series-legend static' },
    h('span', { class: 'legend-item' }, h('span', { class: 'swatch series-free', 'aria-hidden': 'true' }), ' free memory'),
    ...STATES.map((s) => h('span', { class: 'legend-item', title: STATE_ACTIONS[s] }, h('span', { class: `swatch band-${s}`, 'aria-hidden': 'true' }), ` ${s}`)));
  const chart = chartBox('Free machine memory (percent) over simulated time, over the reclamation-state bands; the strip below is the state at each rebalance', 'free-chart', {}, (wd) => {
    const c: FreeChart = freeChart(w.history, w.totalPages, w.thresholds, box(wd, WIDE_CHART_H + 10));
    const root = svg('svg', { width: wd, height: WIDE_CHART_H + 10, 'aria-hidden': 'true' });
    for (const b of c.bands) {
      root.append(svg('rect', { x: c.box.left, width: c.box.width - c.box.left - c.box.right, y: b.y0, height: Math.max(0, b.y1 - b.y0), class: `band band-${b.state}`, 'data-state': b.state }));
    }
    axes(root, c, (v) => `${+v.toFixed(2)} %`);
    const right = c.box.width - c.box.right;
    for (const t of c.thresholdLines) root.append(svg('line', { x1: c.box.left, x2: right, y1: t.y, y2: t.y, class: 'threshold' }, svg('title', {}, t.label)));
    // Each band named inside it, where it is tall enough for the text.
    for (const b of c.bands) {
      if (b.y1 - b.y0 >= 11) root.append(svg('text', { x: right - 4, y: (b.y0 + b.y1) / 2 + 4, class: 'axis-label band-label', 'text-anchor': 'end' }, b.state));
    }
    // The state the scheduler was in, as a strip just above the time axis.
    const stripY = c.box.height - c.box.bottom - 5;
    for (const r of c.stateRuns) {
      root.append(svg('rect', { x: r.x0, y: stripY, width: Math.max(2, r.x1 - r.x0), height: 5, class: `strip band-${r.state}`, 'data-state': r.state }));
    }
    lines(root, c, () => 'series-free');
    return { root, drawn: { chart: c, describe: (i) => freeSampleText(w.history[i], w.totalPages) } };
  }, width);
  return h('section', {}, h('h2', {}, 'Free machine memory and the reclamation state', h('span', { class: 'subtitle' }, 'square-root scale')), legend, chart);
}

function shortPages(n: number): string {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${+(n / 1e3).toFixed(1)}k`;
  return String(+n.toFixed(1));
}

// ---------------------------------------------------------------- messages

let lastStopText = '';

function render(): void {
  const w = last;
  if (!w) return;
  const width = Math.max(320, (content.clientWidth || document.body.clientWidth || 800) - 4);
  renderHeader(w, lastStopText);
  const parts: Child[] = [h('h2', {}, 'Virtual machines'), renderTable(w)];
  if (w.history.length === 0) {
    parts.push(h('p', { class: 'placeholder no-history' }, 'No rebalance yet: the charts start with the scheduler\'s first rebalance.'));
  } else {
    parts.push(
      h('h2', {}, `Over time — ${w.history.length} sample${w.history.length === 1 ? '' : 's'}, one per ${w.resolution > 1 ? `${w.resolution} rebalances` : 'rebalance'}`),
      legendButtons(), vmCharts(w, width), rhoSection(w, width), freeSection(w, width));
  }
  replace(content, ...parts);
}

function onOvercommit(msg: OvercommitMessage): void {
  if (msg.stop) clearBanner(banner);
  // While running: live numbers, not a stale picture.
  else showRunning(banner, ' Running — updated live', false);
  if (!msg.body.enabled) {
    last = undefined;
    content.replaceChildren();
    summary.replaceChildren();
    replace(empty, icon('info'), h('p', { class: 'disabled' }, 'No memory overcommitment to show'), h('p', { class: 'hint why' }, msg.body.why));
    return;
  }
  empty.replaceChildren();
  last = msg.body;
  lastStopText = msg.stop ? `${msg.stop.thread}, stop ${msg.stop.stopCount}` : '';
  render();
}

function onPhase(msg: PhaseMessage): void {
  if (msg.phase === 'running') {
    showRunning(banner, ' Running…');
    if (!last) replace(empty, icon('debug-continue'), h('p', {}, 'Running: the scheduler\'s state appears with the next update or stop'));
    return;
  }
  last = undefined;
  content.replaceChildren();
  summary.replaceChildren();
  clearBanner(banner);
  if (msg.phase === 'none') {
    replace(empty, ...noSessionPlaceholder('Start debugging VMs on an overcommitted machine: the memory scheduler\'s targets, balloons, working sets and ρ are charted here.'));
  } else replace(empty, icon('error'), h('p', {}, msg.message ?? 'The adapter did not answer'));
}

// Charts follow the panel's width.
let lastWidth = 0;
new ResizeObserver(() => {
  const wd = content.clientWidth;
  if (Math.abs(wd - lastWidth) < 8) return;
  lastWidth = wd;
  render();
}).observe(content);

replace(empty, ...waitingPlaceholder());
host.onMessage((data) => {
  if (!hasType<OvercommitHostMessage>(data, 'overcommit', 'phase')) return;
  if (data.type === 'overcommit') onOvercommit(data);
  else onPhase(data);
});
host.post({ type: 'ready' });
