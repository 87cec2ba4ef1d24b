// The Event Timeline webview: engine events over instruction count as stacked bars (SVG), the
// stops marked; hover a bucket for its counts, click or Enter to list its events below
// (a virtualized list); an event with a gva opens its Address Translation.
import { hasType } from '../shared/messages';
import type { EventsMessage, PhaseMessage, StopMark, TimelineHostMessage, TimelineIntent, TimelineViewState } from '../shared/messages';
import type { LoggedEventWire } from '../../debugAdapter/viewsProtocol';
import { hostChannel } from '../shared/vscodeApi';
import { h, icon, mount, replace, svg } from '../shared/dom';
import { count } from '../shared/format';
import { clearBanner, noSessionPlaceholder, showRunning, waitingPlaceholder } from '../shared/status';
import { bin, describeEvent, eventGva, seriesOf, shortCount, ticks } from './model';
import type { Binned, Bucket } from './model';

const host = hostChannel<TimelineIntent, TimelineViewState>();
let state: TimelineViewState = host.getState() ?? {};

const CHART_H = 220;
const PAD = { left: 44, right: 12, top: 18, bottom: 26 };
const ROW_H = 24;
const MAX_EVENTS = 50_000;

const vmSelect = h('select', { 'aria-label': 'Virtual machine' });
const summary = h('p', { class: 'summary' });
const banner = h('div', { class: 'banner', role: 'status', 'aria-live': 'polite' });
const legendEl = h('div', { class: 'series-legend', role: 'group', 'aria-label': 'Series (click to hide or show)' });
const chartWrap = h('div', {
  class: 'chart', tabindex: '0', role: 'application',
  'aria-label': 'Event counts over instruction count. Left and right arrows choose a bucket, Enter lists its events.',
});
const tooltip = h('div', { class: 'tooltip', hidden: true, role: 'tooltip' });
const live = h('p', { class: 'sr-only', 'aria-live': 'polite' });
const listTitle = h('h2', { class: 'list-title' });
const listInner = h('div', { class: 'list-inner' });
const list = h('div', { class: 'event-list', tabindex: '0', role: 'listbox', 'aria-label': 'Events of the selected bucket' }, listInner);
const empty = h('div', { class: 'placeholder' });
mount(
  h('header', {}, h('div', { class: 'toolbar' }, h('label', {}, 'VM '), vmSelect), summary),
  banner, empty, legendEl, chartWrap, listTitle, list, tooltip, live);

let events: LoggedEventWire[] = [];
let stops: StopMark[] = [];
let last: EventsMessage | undefined;
let binned: Binned | undefined;
let selected: number | undefined = state.selectedBucket;
let activeRow = 0;
const hidden = new Set<string>(state.hiddenKinds ?? []);

function save(): void {
  state = { vm: state.vm, selectedBucket: selected, hiddenKinds: [...hidden] };
  host.setState(state);
}

vmSelect.addEventListener('change', () => {
  state.vm = vmSelect.value === 'all' ? undefined : Number(vmSelect.value);
  selected = undefined;
  save();
  render();
});

function visibleEvents(): LoggedEventWire[] {
  return state.vm === undefined ? events : events.filter((e) => e.vm === state.vm);
}

function render(): void {
  if (!last) return;
  const vms = [...new Set(events.map((e) => e.vm))].sort((a, b) => a - b);
  replace(vmSelect, h('option', { value: 'all' }, 'all VMs'), ...vms.map((vm) => h('option', { value: String(vm) }, last?.vmNames[vm] ?? `vm${vm}`)));
  vmSelect.value = state.vm === undefined ? 'all' : String(state.vm);
  const shown = visibleEvents();
  const vmStops = stops.filter((s) => state.vm === undefined || s.vm === state.vm);
  const until = vmStops.reduce((m, s) => Math.max(m, s.icount), 0);
  const width = Math.max(320, chartWrap.clientWidth || 600);
  binned = bin(shown, Math.floor((width - PAD.left - PAD.right) / 7), until, hidden);
  if (selected !== undefined && selected >= binned.buckets.length) selected = undefined;
  const lost = last.total - (events.length ? events[events.length - 1].seq + 1 : 0);
  const dropped = events.length ? events[0].seq : 0;
  replace(summary, h('strong', {}, count(shown.length)), ` events captured over ${count(binned.end)} instructions · bucket ${count(binned.width)} instructions`,
    dropped > 0 ? ` · the first ${count(dropped)} events were overwritten in the adapter's log (capacity ${count(last.capacity)})` : '',
    lost > 0 ? ` · ${lost} newer events not fetched yet` : '');
  renderLegend(binned, shown);
  renderChart(binned, vmStops, width);
  renderList();
}

function renderLegend(b: Binned, shown: LoggedEventWire[]): void {
  const totals = new Map<string, number>();
  for (const e of shown) totals.set(seriesOf(e.event), (totals.get(seriesOf(e.event)) ?? 0) + 1);
  replace(legendEl, ...b.series.map((s) => {
    const btn = h('button', { type: 'button', class: 'series', 'aria-pressed': String(!hidden.has(s)), title: hidden.has(s) ? `show ${s}` : `hide ${s}` },
      h('span', { class: `swatch ${seriesClass(s)}`, 'aria-hidden': 'true' }), ` ${s} `, h('span', { class: 'count' }, count(totals.get(s) ?? 0)));
    btn.addEventListener('click', () => {
      if (hidden.has(s)) hidden.delete(s);
      else hidden.add(s);
      save();
      render();
    });
    return btn;
  }));
}

/** Series names as CSS classes (colours come from media/webview/timeline.css). */
function seriesClass(s: string): string {
  return 'series-' + s.replace(/[^a-z0-9]+/gi, '-');
}

function renderChart(b: Binned, marks: StopMark[], width: number): void {
  const plotW = width - PAD.left - PAD.right;
  const plotH = CHART_H - PAD.top - PAD.bottom;
  const x = (icount: number): number => PAD.left + (icount / b.end) * plotW;
  const yMax = Math.max(1, b.max);
  const y = (n: number): number => PAD.top + plotH - (n / yMax) * plotH;
  const root = svg('svg', { width, height: CHART_H, class: 'timeline', 'aria-hidden': 'true' });
  for (const t of ticks(yMax, 4)) {
    root.append(svg('line', { x1: PAD.left, x2: width - PAD.right, y1: y(t), y2: y(t), class: 'gridline' }),
      svg('text', { x: PAD.left - 6, y: y(t) + 4, class: 'axis-label', 'text-anchor': 'end' }, shortCount(t)));
  }
  for (const t of ticks(b.end, Math.max(2, Math.floor(plotW / 90)))) {
    root.append(svg('text', { x: x(t), y: CHART_H - 8, class: 'axis-label', 'text-anchor': 'middle' }, shortCount(t)));
  }
  const bw = Math.max(1, (plotW / b.buckets.length) - 1);
  for (const bucket of b.buckets) {
    let acc = 0;
    const g = svg('g', { class: `bucket${bucket.index === selected ? ' selected' : ''}`, 'data-bucket': bucket.index });
    g.append(svg('rect', { x: x(bucket.start), y: PAD.top, width: bw + 1, height: plotH, class: 'hit' }));
    for (const s of b.series) {
      const n = bucket.counts.get(s);
      if (!n) continue;
      g.append(svg('rect', { x: x(bucket.start), y: y(acc + n), width: bw, height: Math.max(1, y(acc) - y(acc + n)), class: `bar ${seriesClass(s)}` }));
      acc += n;
    }
    root.append(g);
  }
  for (const m of marks) {
    const mx = x(Math.min(m.icount, b.end));
    root.append(svg('line', { x1: mx, x2: mx, y1: PAD.top - 4, y2: PAD.top + plotH, class: 'stop-mark' }),
      // Near the right edge the label goes left of its line, so it is not clipped.
      svg('text', { x: mx > width - 60 ? mx - 2 : mx + 2, y: PAD.top - 6, class: 'stop-label', 'text-anchor': mx > width - 60 ? 'end' : 'start' }, `stop ${m.stopCount}`));
  }
  root.append(svg('line', { x1: PAD.left, x2: width - PAD.right, y1: PAD.top + plotH, y2: PAD.top + plotH, class: 'axis' }));
  replace(chartWrap, root);
}

function bucketText(bucket: Bucket): string[] {
  const lines = [`instructions ${count(bucket.start)}–${count(bucket.end - 1)}: ${bucket.total} event${bucket.total === 1 ? '' : 's'}`];
  for (const s of binned?.series ?? []) {
    const n = bucket.counts.get(s);
    if (n) lines.push(`${s}: ${n}`);
  }
  const here = stops.filter((m) => m.icount >= bucket.start && m.icount < bucket.end && (state.vm === undefined || m.vm === state.vm));
  for (const m of here) lines.push(`stop ${m.stopCount} at ${count(m.icount)}: ${m.description ?? m.reason}`);
  return lines;
}

function bucketAt(ev: MouseEvent): Bucket | undefined {
  const g = (ev.target as Element).closest('g[data-bucket]');
  return g && binned ? binned.buckets[Number(g.getAttribute('data-bucket'))] : undefined;
}

chartWrap.addEventListener('mousemove', (ev) => {
  const b = bucketAt(ev);
  if (!b) {
    tooltip.hidden = true;
    return;
  }
  replace(tooltip, ...bucketText(b).map((l) => h('div', {}, l)));
  tooltip.hidden = false;
  const left = Math.min(ev.clientX + 14, window.innerWidth - tooltip.offsetWidth - 4);
  tooltip.style.setProperty('left', `${left}px`);
  tooltip.style.setProperty('top', `${ev.clientY + 16}px`);
});
chartWrap.addEventListener('mouseleave', () => (tooltip.hidden = true));
chartWrap.addEventListener('click', (ev) => {
  const b = bucketAt(ev);
  if (b) selectBucket(b.index, true);
});
chartWrap.addEventListener('keydown', (ev) => {
  if (!binned) return;
  const n = binned.buckets.length;
  const nonEmpty = binned.buckets.filter((b) => b.total > 0).map((b) => b.index);
  const cur = selected ?? -1;
  let next: number | undefined;
  if (ev.key === 'ArrowRight') next = ev.ctrlKey ? nonEmpty.find((i) => i > cur) : Math.min(n - 1, cur + 1);
  else if (ev.key === 'ArrowLeft') next = ev.ctrlKey ? [...nonEmpty].reverse().find((i) => i < cur) : Math.max(0, cur - 1);
  else if (ev.key === 'Home') next = 0;
  else if (ev.key === 'End') next = n - 1;
  else if (ev.key === 'Enter' || ev.key === ' ') {
    if (selected !== undefined) list.focus();
  } else return;
  ev.preventDefault();
  if (next !== undefined) selectBucket(next, false);
});

function selectBucket(index: number, fromMouse: boolean): void {
  selected = index;
  activeRow = 0;
  save();
  render();
  const b = binned?.buckets[index];
  if (b) live.textContent = bucketText(b).join('; ');
  if (!fromMouse) chartWrap.focus();
}

function renderList(): void {
  const b = selected !== undefined ? binned?.buckets[selected] : undefined;
  if (!b) {
    listTitle.textContent = 'Click a bar (or choose one with the arrow keys) to list its events';
    listInner.replaceChildren();
    listInner.style.setProperty('height', '0px');
    list.hidden = true;
    return;
  }
  list.hidden = false;
  listTitle.textContent = `${b.total} event${b.total === 1 ? '' : 's'} in instructions ${count(b.start)}–${count(b.end - 1)}`;
  listInner.style.setProperty('height', `${b.events.length * ROW_H}px`);
  drawRows();
}

/** Only the rows in view exist in the DOM. */
function drawRows(): void {
  const b = selected !== undefined ? binned?.buckets[selected] : undefined;
  if (!b) return;
  const first = Math.max(0, Math.floor(list.scrollTop / ROW_H) - 5);
  const end = Math.min(b.events.length, Math.ceil((list.scrollTop + list.clientHeight) / ROW_H) + 5);
  const rows: HTMLElement[] = [];
  for (let i = first; i < end; i++) {
    const le = b.events[i];
    const gva = eventGva(le.event);
    const row = h('div', {
      class: `event-row${i === activeRow ? ' active' : ''}`, role: 'option', id: `ev-${i}`, 'aria-selected': String(i === activeRow),
      title: gva ? 'Enter: show the Address Translation of this address' : '',
    },
    h('span', { class: `swatch ${seriesClass(seriesOf(le.event))}`, 'aria-hidden': 'true' }),
    h('span', { class: 'icount mono' }, count(le.event.icount)),
    h('span', { class: 'where' }, `${vmName(le.vm)}/vcpu${le.event.vcpu}`),
    h('span', { class: 'text' }, describeEvent(le.event)),
    gva ? h('button', { type: 'button', class: 'link', tabindex: '-1', 'data-gva': gva, title: `Show the Address Translation of ${gva}` }, icon('arrow-swap'), ' translate') : null);
    row.style.setProperty('top', `${i * ROW_H}px`);
    rows.push(row);
  }
  replace(listInner, ...rows);
  list.setAttribute('aria-activedescendant', `ev-${activeRow}`);
}

function vmName(vm: number): string {
  return last?.vmNames[vm] ?? `vm${vm}`;
}

list.addEventListener('scroll', () => drawRows(), { passive: true });
list.addEventListener('click', (ev) => {
  const btn = (ev.target as HTMLElement).closest<HTMLElement>('button[data-gva]');
  if (btn?.dataset.gva) host.post({ type: 'showTranslation', gva: btn.dataset.gva });
});
list.addEventListener('keydown', (ev) => {
  const b = selected !== undefined ? binned?.buckets[selected] : undefined;
  if (!b) return;
  const page = Math.max(1, Math.floor(list.clientHeight / ROW_H) - 1);
  const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
  if (ev.key in moves) activeRow = Math.max(0, Math.min(b.events.length - 1, activeRow + moves[ev.key]));
  else if (ev.key === 'Home') activeRow = 0;
  else if (ev.key === 'End') activeRow = b.events.length - 1;
  else if (ev.key === 'Enter') {
    const gva = eventGva(b.events[activeRow].event);
    if (gva) host.post({ type: 'showTranslation', gva });
  } else if (ev.key === 'Escape') chartWrap.focus();
  else return;
  ev.preventDefault();
  if (activeRow * ROW_H < list.scrollTop) list.scrollTop = activeRow * ROW_H;
  else if ((activeRow + 1) * ROW_H > list.scrollTop + list.clientHeight) list.scrollTop = (activeRow + 1) * ROW_H - list.clientHeight;
  drawRows();
  live.textContent = describeEvent(b.events[activeRow].event);
});

new ResizeObserver(() => render()).observe(chartWrap);

function onEvents(msg: EventsMessage): void {
  clearBanner(banner);
  empty.replaceChildren();
  legendEl.hidden = chartWrap.hidden = false;
  if (msg.reset) events = [];
  // seq ascending; never hold the same event twice (a resend after reload).
  const lastSeq = events.length ? events[events.length - 1].seq : -1;
  for (const e of msg.events) if (e.seq > lastSeq) events.push(e);
  if (events.length > MAX_EVENTS) events = events.slice(events.length - MAX_EVENTS);
  stops = msg.stops;
  last = msg;
  if (state.vm === undefined && msg.stop && msg.reset && Object.keys(msg.vmNames).length > 1) state.vm = msg.stop.vm;
  render();
}

function onPhase(msg: PhaseMessage): void {
  if (msg.phase === 'running') {
    showRunning(banner, ' Running…');
    if (!last) replace(empty, icon('debug-continue'), h('p', {}, 'Running: the events appear with the next statistics update or stop'));
    return;
  }
  events = [];
  stops = [];
  last = undefined;
  binned = undefined;
  selected = undefined;
  legendEl.replaceChildren();
  chartWrap.replaceChildren();
  legendEl.hidden = chartWrap.hidden = true;
  list.hidden = true;
  listTitle.textContent = '';
  summary.textContent = '';
  clearBanner(banner);
  if (msg.phase === 'none') {
    replace(empty, ...noSessionPlaceholder('Start debugging a guest program: its events are plotted here over instruction count, with each stop marked.'));
  } else replace(empty, icon('error'), h('p', {}, msg.message ?? 'The adapter did not answer'));
}

legendEl.hidden = chartWrap.hidden = true;
list.hidden = true;
replace(empty, ...waitingPlaceholder());
host.onMessage((data) => {
  if (!hasType<TimelineHostMessage>(data, 'events', 'phase')) return;
  if (data.type === 'events') onEvents(data);
  else onPhase(data);
});
host.post({ type: 'ready' });
