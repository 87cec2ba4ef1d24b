// The Machine Memory webview: every machine frame as a cell on a canvas, coloured by use or by
// owner, virtualized (only the rows on screen are drawn, and only their runs are asked for).
// Hover tells a frame's owner, use and run (a shared frame: its references); click or Enter
// opens it in the memory view. Under it, each VM's guest-physical pages by state (guestStrips.ts):
// ballooned and swapped pages have no machine frame to colour.
import { hasType } from '../shared/messages';
import type { FrameMapMessage, MemoryHostMessage, MemoryIntent, MemoryViewState, PhaseMessage } from '../shared/messages';
import type { FrameRunWire } from '../../debugAdapter/viewsProtocol';
import { hostChannel } from '../shared/vscodeApi';
import { h, icon, mount, replace } from '../shared/dom';
import { count, hex, hexPad } from '../shared/format';
import { clearBanner, noSessionPlaceholder, showRunning, waitingPlaceholder } from '../shared/status';
import { FrameIndex, USE_LABELS, changedFrames, columnsFor, describeFrame, legend, ownerSlots, rowRange } from './model';
import type { PaletteUse } from './model';
import { STATES } from './guestModel';
import { GuestStrips } from './guestStrips';
import type { StripPalette } from './guestStrips';

const CELL = 11;
const GAP = 1;
const GUTTER = 78;
const OWNER_SLOTS = 8;

const host = hostChannel<MemoryIntent, MemoryViewState>();
let state: MemoryViewState = host.getState() ?? { colourBy: 'use' };

const byUse = h('button', { type: 'button', 'aria-pressed': 'true', title: 'Colour frames by what they hold' }, icon('symbol-color'), ' By use');
const byOwner = h('button', { type: 'button', 'aria-pressed': 'false', title: 'Colour frames by the VM that owns them' }, icon('vm'), ' By owner');
const summary = h('p', { class: 'summary' });
const legendEl = h('div', { class: 'legend-table', role: 'region', 'aria-label': 'Frames by owner and use' });
const banner = h('div', { class: 'banner', role: 'status', 'aria-live': 'polite' });
const canvas = h('canvas', { class: 'map', tabindex: '0', role: 'img', 'aria-label': 'Machine memory map: arrow keys move between frames, Enter opens the frame in the memory view' });
const spacer = h('div', { class: 'map-spacer' });
const scroller = h('div', { class: 'map-scroll' }, canvas, spacer);
const tooltip = h('div', { class: 'tooltip', hidden: true, role: 'tooltip' });
const live = h('p', { class: 'sr-only', 'aria-live': 'polite' });
const empty = h('div', { class: 'placeholder' });
const strips = new GuestStrips({
  post: (i) => host.post(i),
  palette: () => (colours ??= resolveColours()).strips,
  showTip,
  hideTip: () => {
    tooltip.hidden = true;
  },
  announce: (text) => {
    live.textContent = text;
  },
  windowMoved: (fromPpn) => {
    state = { ...state, fromPpn };
    host.setState(state);
  },
  resized: fitMap,
}, state.fromPpn);
mount(
  h('header', {}, h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Colour' }, h('span', {}, 'Colour:'), byUse, byOwner), summary),
  banner, legendEl, empty, scroller, strips.el, tooltip, live);

let map: FrameMapMessage | undefined;
let index: FrameIndex | undefined;
/** The previous stop's frames, for the changed outline. */
let before: { stopCount: number; index: FrameIndex } | undefined;
let changed = new Set<number>();
let columns = 64;
let selected = state.selectedMpn ?? 0;
let hover: number | undefined;
let colours: { use: Map<string, string>; owner: string[]; unknown: string; text: string; focus: string; changed: string; grid: string; strips: StripPalette } | undefined;

function setColourBy(mode: MemoryViewState['colourBy']): void {
  state = { ...state, colourBy: mode };
  host.setState(state);
  byUse.setAttribute('aria-pressed', String(mode === 'use'));
  byOwner.setAttribute('aria-pressed', String(mode === 'owner'));
  renderLegend();
  draw();
}
byUse.addEventListener('click', () => setColourBy('use'));
byOwner.addEventListener('click', () => setColourBy('owner'));
setColourBy(state.colourBy);

/** Theme colours resolved through a probe element (the canvas needs concrete colours). */
function resolveColours(): NonNullable<typeof colours> {
  const probe = h('span', { hidden: true });
  document.body.append(probe);
  const read = (cssVar: string): string => {
    probe.style.color = `var(${cssVar})`;
    return getComputedStyle(probe).color;
  };
  const use = new Map<string, string>();
  for (const u of Object.keys(USE_LABELS)) use.set(u, read(`--vmem-use-${u}`));
  const owner = Array.from({ length: OWNER_SLOTS }, (_, i) => read(`--vmem-owner-${i}`));
  const page = new Map<string, string>(STATES.map((st) => [st, read(`--vmem-page-${st}`)]));
  const unknown = read('--vmem-unloaded');
  page.set('unknown', unknown);
  const text = read('--vmem-muted');
  const focus = read('--vscode-focusBorder');
  const changed = read('--vmem-changed');
  const c = { use, owner, unknown, text, focus, changed, grid: read('--vmem-border'), strips: { page, hole: unknown, text, focus, changed } };
  probe.remove();
  return c;
}

// Theme switches change body's class: re-read the palette then.
new MutationObserver(() => {
  colours = undefined;
  renderLegend();
  draw();
  strips.drawAll();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

function colourOf(run: FrameRunWire | undefined): string {
  const c = (colours ??= resolveColours());
  if (!run) return c.unknown;
  if (state.colourBy === 'owner' && run.owner >= 0) {
    const slot = ownerSlots(map!.map).get(run.ownerName) ?? 1;
    return c.owner[slot % OWNER_SLOTS];
  }
  return c.use.get(run.use) ?? c.unknown;
}

function rows(): number {
  return map ? Math.ceil(map.map.total / columns) : 0;
}

function layout(): void {
  columns = columnsFor(scroller.clientWidth, CELL, GUTTER);
  spacer.style.setProperty('height', `${rows() * CELL}px`);
}

function visibleRows(): { first: number; last: number } {
  const first = Math.floor(scroller.scrollTop / CELL);
  const last = Math.min(rows() - 1, Math.ceil((scroller.scrollTop + scroller.clientHeight) / CELL));
  return { first, last };
}

function draw(): void {
  if (!map || map.map.native) return;
  const c = (colours ??= resolveColours());
  const dpr = window.devicePixelRatio || 1;
  const w = scroller.clientWidth;
  const hgt = scroller.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(hgt * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(hgt * dpr);
    canvas.style.setProperty('width', `${w}px`);
    canvas.style.setProperty('height', `${hgt}px`);
    // Sticky and out of the flow: the spacer alone gives the scrollbar its length.
    canvas.style.setProperty('margin-bottom', `-${hgt}px`);
  }
  const g = canvas.getContext('2d');
  if (!g) return;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, hgt);
  const { first, last } = visibleRows();
  const offset = scroller.scrollTop - first * CELL;
  g.font = `${Math.max(9, CELL - 1)}px ${getComputedStyle(document.body).getPropertyValue('--vmem-mono') || 'monospace'}`;
  g.textBaseline = 'top';
  const total = map.map.total;
  for (let r = first; r <= last; r++) {
    const y = (r - first) * CELL - offset;
    // Label every fourth row with its first mpn (the rows are a power of two wide: round numbers).
    if (r % 4 === 0) {
      g.fillStyle = c.text;
      g.fillText(hexPad(r * columns, 5), 2, y);
    }
    for (let col = 0; col < columns; col++) {
      const mpn = r * columns + col;
      if (mpn >= total) break;
      const run = index?.runAt(mpn);
      g.fillStyle = colourOf(run);
      g.fillRect(GUTTER + col * CELL, y, CELL - GAP, CELL - GAP);
      // A shared frame carries a mark as well as a colour (and keeps it when coloured by owner).
      if (run?.use === 'shared') {
        g.fillStyle = c.unknown;
        g.fillRect(GUTTER + col * CELL + 3, y + 3, CELL - GAP - 6, CELL - GAP - 6);
      }
      if (changed.has(mpn)) {
        g.strokeStyle = c.changed;
        g.lineWidth = 2;
        g.strokeRect(GUTTER + col * CELL + 1, y + 1, CELL - GAP - 2, CELL - GAP - 2);
      }
    }
  }
  for (const [mpn, colour, width] of [[hover, c.text, 1], [document.activeElement === canvas ? selected : undefined, c.focus, 2]] as const) {
    if (mpn === undefined) continue;
    const r = Math.floor(mpn / columns);
    if (r < first || r > last) continue;
    g.strokeStyle = colour;
    g.lineWidth = width;
    g.strokeRect(GUTTER + (mpn % columns) * CELL - 0.5, (r - first) * CELL - offset - 0.5, CELL, CELL);
  }
}

let viewportTimer: ReturnType<typeof setTimeout> | undefined;
/** Asks the host for the runs on screen (plus a screen either side) once scrolling settles. */
function requestViewport(): void {
  if (!map) return;
  clearTimeout(viewportTimer);
  viewportTimer = setTimeout(() => {
    if (!map) return;
    const { first, last } = visibleRows();
    const screen = last - first + 1;
    const want = rowRange(first - screen, last + screen, columns, map.map.total);
    if (index && want.from >= index.from && want.to <= index.to) return;
    host.post({ type: 'viewport', fromMpn: want.from, toMpn: want.to });
  }, 80);
}

scroller.addEventListener('scroll', () => {
  state = { ...state, scrollTop: scroller.scrollTop };
  host.setState(state);
  draw();
  requestViewport();
}, { passive: true });
new ResizeObserver(() => {
  layout();
  draw();
  requestViewport();
  strips.relayout();
}).observe(scroller);

/** The map leaves the guest strips their height (the page scrolls when both cannot fit). */
function fitMap(): void {
  const below = strips.el.hidden ? 0 : strips.el.offsetHeight + 8;
  if (below) scroller.style.setProperty('height', `max(200px, calc(100vh - ${190 + below}px))`);
  else scroller.style.removeProperty('height');
}

function showTip(lines: string[], ev: MouseEvent): void {
  replace(tooltip, ...lines.map((line, i) => h('div', { class: i === 0 ? 'mono' : '' }, line)));
  tooltip.hidden = false;
  const x = Math.min(ev.clientX + 14, window.innerWidth - tooltip.offsetWidth - 4);
  const y = ev.clientY + 16 + tooltip.offsetHeight > window.innerHeight ? ev.clientY - tooltip.offsetHeight - 8 : ev.clientY + 16;
  tooltip.style.setProperty('left', `${x}px`);
  tooltip.style.setProperty('top', `${y}px`);
}

function mpnAt(ev: MouseEvent): number | undefined {
  const rect = canvas.getBoundingClientRect();
  const x = ev.clientX - rect.left - GUTTER;
  const y = ev.clientY - rect.top + scroller.scrollTop;
  if (x < 0 || !map) return undefined;
  const col = Math.floor(x / CELL);
  if (col >= columns) return undefined;
  const mpn = Math.floor(y / CELL) * columns + col;
  return mpn < map.map.total ? mpn : undefined;
}

function describe(mpn: number): string[] {
  return describeFrame(mpn, index?.runAt(mpn), index?.loaded(mpn) ?? false).concat(changed.has(mpn) && before ? [`changed since stop ${before.stopCount}`] : []);
}

canvas.addEventListener('mousemove', (ev) => {
  const mpn = mpnAt(ev);
  if (mpn !== hover) {
    hover = mpn;
    draw();
  }
  if (mpn === undefined) {
    tooltip.hidden = true;
    return;
  }
  showTip(describe(mpn), ev);
});
canvas.addEventListener('mouseleave', () => {
  hover = undefined;
  tooltip.hidden = true;
  draw();
});
canvas.addEventListener('click', (ev) => {
  const mpn = mpnAt(ev);
  if (mpn === undefined) return;
  select(mpn);
  open(mpn);
});

function open(mpn: number): void {
  host.post({ type: 'openMemory', reference: `mpa:${hex(mpn * 4096)}`, label: `mpn ${hex(mpn)}` });
}

function select(mpn: number): void {
  if (!map) return;
  selected = Math.max(0, Math.min(map.map.total - 1, mpn));
  state = { ...state, selectedMpn: selected };
  host.setState(state);
  // Keep the selection on screen.
  const r = Math.floor(selected / columns);
  if (r * CELL < scroller.scrollTop) scroller.scrollTop = r * CELL;
  else if ((r + 1) * CELL > scroller.scrollTop + scroller.clientHeight) scroller.scrollTop = (r + 1) * CELL - scroller.clientHeight;
  live.textContent = describe(selected).join(', ');
  draw();
}

canvas.addEventListener('keydown', (ev) => {
  if (!map) return;
  const page = Math.max(1, Math.floor(scroller.clientHeight / CELL) - 1) * columns;
  const moves: Record<string, number> = {
    ArrowLeft: -1, ArrowRight: 1, ArrowUp: -columns, ArrowDown: columns, PageUp: -page, PageDown: page,
  };
  if (ev.key in moves) select(selected + moves[ev.key]);
  else if (ev.key === 'Home') select(ev.ctrlKey ? 0 : selected - (selected % columns));
  else if (ev.key === 'End') select(ev.ctrlKey ? map.map.total - 1 : selected - (selected % columns) + columns - 1);
  else if (ev.key === 'Enter' || ev.key === ' ') open(selected);
  else return;
  ev.preventDefault();
});
canvas.addEventListener('focus', () => {
  live.textContent = describe(selected).join(', ');
  draw();
});
canvas.addEventListener('blur', () => draw());

function renderLegend(): void {
  if (!map || map.map.native) return;
  const l = legend(map.map);
  const slots = ownerSlots(map.map);
  const swatch = (cls: string): HTMLElement => h('span', { class: `swatch ${cls}`, 'aria-hidden': 'true' });
  const uses = l.uses.map((u) => u.use).filter((u) => u !== 'free');
  const head = h('tr', {}, h('th', { scope: 'col' }, 'owner'), ...uses.map((u) => h('th', { scope: 'col', class: 'num' }, swatch(`use-${u}`), ' ', USE_LABELS[u])), h('th', { scope: 'col', class: 'num' }, 'frames'));
  const body = l.owners.map((o) => h('tr', {},
    h('th', { scope: 'row' }, swatch(`owner-${(slots.get(o.owner) ?? 1) % OWNER_SLOTS}`), ' ', o.owner),
    ...uses.map((u: PaletteUse) => h('td', { class: 'num' }, o.byUse[u] ? count(o.byUse[u]!) : '·')),
    h('td', { class: 'num' }, count(o.total))));
  const free = h('tr', { class: 'free-row' }, h('th', { scope: 'row' }, swatch('use-free'), ' free'), ...uses.map(() => h('td', {})), h('td', { class: 'num' }, count(l.free)));
  replace(legendEl, h('table', { class: `legend colour-${state.colourBy}` }, h('thead', {}, head), h('tbody', {}, ...body, free)));
}

function renderMap(msg: FrameMapMessage): void {
  clearBanner(banner);
  const newIndex = new FrameIndex(msg.map.runs, msg.fromMpn, msg.toMpn);
  if (map && map.stop.stopCount < msg.stop.stopCount && index) before = { stopCount: map.stop.stopCount, index };
  else if (map && map.stop.stopCount > msg.stop.stopCount) before = undefined;
  map = msg;
  index = newIndex;
  changed = before ? changedFrames(before.index, index, index.from, index.to) : new Set();
  const used = msg.map.total - (msg.map.free ?? 0);
  strips.render(msg);
  if (msg.map.native) {
    scroller.hidden = true;
    legendEl.replaceChildren();
    summary.textContent = '';
    replace(empty, icon('circuit-board'), h('p', {}, 'Native mode: no hypervisor, so no machine frames to map'),
      h('p', { class: 'hint' }, `The guest owns all ${count(msg.map.total)} frames of its memory directly (mpa = gpa); it has touched ${count(msg.map.touched ?? 0)}.`));
    return;
  }
  empty.replaceChildren();
  scroller.hidden = false;
  replace(summary, `${msg.stop.thread} · stop ${msg.stop.stopCount} · `, h('strong', {}, count(msg.map.total)), ' frames, ',
    h('strong', {}, count(used)), ' in use',
    changed.size && before ? h('span', { class: 'changed-note' }, ` · ${changed.size} changed since stop ${before.stopCount}`) : null);
  layout();
  if (state.scrollTop !== undefined) {
    scroller.scrollTop = state.scrollTop;
    state = { ...state, scrollTop: undefined };
  }
  renderLegend();
  draw();
  requestViewport();
}

function renderPhase(msg: PhaseMessage): void {
  if (msg.phase === 'running') {
    showRunning(banner, ' Running… the map updates at the next stop');
    // No map of this session yet (a panel opened or reloaded while running): say so, not nothing.
    if (!map) replace(empty, icon('debug-continue'), h('p', {}, 'Running: the map appears at the next stop'));
    return;
  }
  map = undefined;
  index = undefined;
  before = undefined;
  changed = new Set();
  scroller.hidden = true;
  strips.clear();
  legendEl.replaceChildren();
  summary.textContent = '';
  clearBanner(banner);
  if (msg.phase === 'none') {
    replace(empty, ...noSessionPlaceholder('Start debugging a guest program in a hypervisor mode to see who owns each machine frame.'));
  } else {
    replace(empty, icon('error'), h('p', {}, msg.message ?? 'The adapter did not answer'));
  }
}

scroller.hidden = true;
replace(empty, ...waitingPlaceholder());
host.onMessage((data) => {
  if (!hasType<MemoryHostMessage>(data, 'frameMap', 'phase')) return;
  if (data.type === 'frameMap') renderMap(data);
  else renderPhase(data);
});
host.post({ type: 'ready' });
