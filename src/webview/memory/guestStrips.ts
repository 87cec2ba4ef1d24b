// The guest strips under the Machine Memory map: per VM one canvas of its guest-physical pages
// in the current ppn window, one cell per page coloured by p2m state; a counts table whose
// headers are the legend; a pager for the window. Hover tells a page's state (the swap slot, the
// shared frame and its references); click or Enter opens a page that has a frame.
import type { FrameMapMessage, MemoryIntent } from '../shared/messages';
import type { GuestPagesWire, PageState } from '../../debugAdapter/viewsProtocol';
import { h, icon, replace } from '../shared/dom';
import { count, hex } from '../shared/format';
import { GuestIndex, STATES, STATE_HINTS, changedPages, describePage, openable, pageWindow, stateCounts } from './guestModel';
import { columnsFor } from './model';

/** Cells: 6 px and a 1 px gap; rows of a power of two pages; a window is ROWS rows. */
export const STRIP_CELL = 7;
const GAP = 1;
export const STRIP_ROWS = 8;

export interface StripPalette {
  page: Map<string, string>;
  /** The centre mark of a shared page (the background shows through). */
  hole: string;
  text: string;
  focus: string;
  changed: string;
}

export interface StripHost {
  post(intent: MemoryIntent): void;
  palette(): StripPalette;
  showTip(lines: string[], ev: MouseEvent): void;
  hideTip(): void;
  announce(text: string): void;
  /** The first ppn changed (kept in the webview's state). */
  windowMoved(fromPpn: number): void;
  /** The section's height changed (the map above gives room). */
  resized(): void;
}

interface Strip {
  vm: GuestPagesWire;
  index: GuestIndex;
  canvas: HTMLCanvasElement;
  changed: Set<number>;
  selected: number;
}

export class GuestStrips {
  readonly el = h('section', { class: 'guest', 'aria-label': 'Guest-physical pages by state', hidden: true });
  private readonly range = h('span', { class: 'guest-range mono' });
  private readonly prev = h('button', { type: 'button', title: 'The previous pages of every VM' }, icon('chevron-left'), ' Previous');
  private readonly next = h('button', { type: 'button', title: 'The next pages of every VM' }, 'Next ', icon('chevron-right'));
  private readonly table = h('div', { class: 'legend-table', role: 'region', 'aria-label': 'Guest pages by VM and state' });
  private readonly list = h('div', { class: 'strips' });
  private strips: Strip[] = [];
  /** One canvas per VM for the panel's life: focus and listeners survive refreshes. */
  private readonly canvases = new Map<number, HTMLCanvasElement>();
  private columns = 128;
  private fromPpn: number;
  private maxPages = 0;
  /** The window last asked for, so a message answering an older one does not ask again. */
  private asked: { from: number; to: number } | undefined;
  private before: { stopCount: number; byVm: Map<number, GuestIndex> } | undefined;
  private stopCount = 0;
  private hoverAt: { strip: Strip; ppn: number } | undefined;

  constructor(private readonly host: StripHost, fromPpn = 0) {
    this.fromPpn = fromPpn;
    this.el.append(
      h('div', { class: 'guest-head' }, h('h2', {}, 'Guest-physical pages'),
        h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Guest pages shown' }, this.prev, this.range, this.next)),
      this.table, this.list);
    this.prev.addEventListener('click', () => this.move(-1));
    this.next.addEventListener('click', () => this.move(1));
  }

  private size(): number {
    return this.columns * STRIP_ROWS;
  }

  private move(by: number): void {
    this.goTo(this.fromPpn + by * this.size());
  }

  private goTo(ppn: number): void {
    const w = pageWindow(ppn, this.size(), this.maxPages);
    if (w.from === this.fromPpn && this.asked?.from === w.from) return;
    this.fromPpn = w.from;
    this.host.windowMoved(w.from);
    this.ask();
    this.renderStrips();
  }

  /** Asks for the window unless the last message or request already covers it. */
  private ask(current?: { from: number; to: number }): void {
    const w = pageWindow(this.fromPpn, this.size(), this.maxPages);
    if (current && current.from === w.from && current.to === w.to) {
      this.asked = w;
      return;
    }
    if (this.asked && this.asked.from === w.from && this.asked.to === w.to) return;
    this.asked = w;
    this.host.post({ type: 'guestWindow', fromPpn: w.from, toPpn: w.to });
  }

  clear(): void {
    this.strips = [];
    this.before = undefined;
    this.asked = undefined;
    this.el.hidden = true;
    this.list.replaceChildren();
    this.table.replaceChildren();
  }

  render(msg: FrameMapMessage): void {
    const guest = msg.map.guest ?? [];
    if (msg.map.native || guest.length === 0) {
      this.clear();
      this.host.resized();
      return;
    }
    const prevStop = this.stopCount;
    const old = new Map(this.strips.map((s) => [s.vm.vm, s.index]));
    if (this.strips.length && prevStop < msg.stop.stopCount) this.before = { stopCount: prevStop, byVm: old };
    else if (prevStop > msg.stop.stopCount) this.before = undefined;
    this.stopCount = msg.stop.stopCount;
    this.el.hidden = false;
    this.maxPages = Math.max(...guest.map((g) => g.pages));
    this.columns = columnsFor(this.list.clientWidth || this.el.clientWidth || 900, STRIP_CELL, 0);
    this.fromPpn = pageWindow(this.fromPpn, this.size(), this.maxPages).from;
    const selected = new Map(this.strips.map((s) => [s.vm.vm, s.selected]));
    this.strips = guest.map((vm) => {
      const index = new GuestIndex(vm);
      const prior = this.before?.byVm.get(vm.vm);
      const changed = prior ? changedPages(prior, index, vm.fromPpn, vm.toPpn) : new Set<number>();
      const canvas = this.canvasOf(vm.vm);
      return { vm, index, canvas, changed, selected: selected.get(vm.vm) ?? this.fromPpn };
    });
    this.renderTable();
    this.renderStrips();
    this.ask({ from: msg.fromPpn, to: msg.toPpn });
  }

  private renderTable(): void {
    const swatch = (s: PageState): HTMLElement => h('span', { class: `swatch page-${s}`, 'aria-hidden': 'true' });
    const head = h('tr', {}, h('th', { scope: 'col' }, 'VM'), ...STATES.map((s) => h('th', { scope: 'col', class: 'num', 'data-state': s }, swatch(s), ' ', s, ' ', h('span', { class: 'state-hint' }, `(${STATE_HINTS[s]})`))), h('th', { scope: 'col', class: 'num' }, 'pages'));
    const rows = this.strips.map(({ vm }) => h('tr', {}, h('th', { scope: 'row' }, vm.name),
      ...stateCounts(vm).map((c) => h('td', { class: 'num' }, c.pages ? count(c.pages) : '·')), h('td', { class: 'num' }, count(vm.pages))));
    replace(this.table, h('table', { class: 'legend guest-legend' }, h('thead', {}, head), h('tbody', {}, ...rows)));
  }

  private renderStrips(): void {
    const w = pageWindow(this.fromPpn, this.size(), this.maxPages);
    const last = Math.min(w.to, this.maxPages) - 1;
    this.range.textContent = `ppn ${hex(w.from)}–${hex(last)} of ${hex(this.maxPages - 1)}`;
    this.prev.disabled = w.from === 0;
    this.next.disabled = w.to >= this.maxPages;
    const focused = this.strips.find((s) => s.canvas === document.activeElement);
    replace(this.list, ...this.strips.map((s) => {
      const pages = Math.max(0, Math.min(w.to, s.vm.pages) - w.from);
      const changedNote = s.changed.size && this.before ? ` · ${count(s.changed.size)} changed since stop ${this.before.stopCount}` : '';
      const label = pages === 0 ? `${s.vm.name}: no pages here (${count(s.vm.pages)} pages in all)` : `${s.vm.name} · ppn ${hex(w.from)}–${hex(w.from + pages - 1)}${changedNote}`;
      s.canvas.setAttribute('aria-label', `${s.vm.name}'s guest pages: arrow keys move between pages, Enter opens a page that has a frame. ${stateCounts(s.vm).map((c) => `${c.state} ${c.pages}`).join(', ')}`);
      return h('div', { class: 'strip-row' }, h('div', { class: 'strip-name' }, label), pages > 0 ? s.canvas : null);
    }));
    // Re-attaching the canvas blurred it: keyboard users keep their place.
    if (focused?.canvas.isConnected) focused.canvas.focus();
    this.drawAll();
    this.host.resized();
  }

  private canvasOf(vm: number): HTMLCanvasElement {
    let c = this.canvases.get(vm);
    if (!c) {
      c = h('canvas', { class: 'strip', tabindex: '0', role: 'img', 'data-vm': vm });
      this.canvases.set(vm, c);
      this.wire(vm, c);
    }
    return c;
  }

  /** Rows of `vm` in the window (0: the VM ends before it). */
  private rowsOf(s: Strip): number {
    const w = pageWindow(this.fromPpn, this.size(), this.maxPages);
    return Math.ceil(Math.max(0, Math.min(w.to, s.vm.pages) - w.from) / this.columns);
  }

  drawAll(): void {
    for (const s of this.strips) this.draw(s);
  }

  private draw(s: Strip): void {
    const rows = this.rowsOf(s);
    if (rows === 0) return;
    const p = this.host.palette();
    const dpr = window.devicePixelRatio || 1;
    // One row: only as wide as its pages (a small guest does not draw, or outline, a long empty row).
    const inWindow = Math.min(this.fromPpn + this.size(), s.vm.pages) - this.fromPpn;
    const wpx = Math.min(this.columns, inWindow) * STRIP_CELL;
    const hpx = rows * STRIP_CELL;
    if (s.canvas.width !== Math.round(wpx * dpr) || s.canvas.height !== Math.round(hpx * dpr)) {
      s.canvas.width = Math.round(wpx * dpr);
      s.canvas.height = Math.round(hpx * dpr);
      s.canvas.style.setProperty('width', `${wpx}px`);
      s.canvas.style.setProperty('height', `${hpx}px`);
    }
    const g = s.canvas.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, wpx, hpx);
    const from = this.fromPpn;
    const end = Math.min(from + this.size(), s.vm.pages);
    const side = STRIP_CELL - GAP;
    for (let ppn = from; ppn < end; ppn++) {
      const i = ppn - from;
      const x = (i % this.columns) * STRIP_CELL;
      const y = Math.floor(i / this.columns) * STRIP_CELL;
      const run = s.index.runAt(ppn);
      g.fillStyle = run ? p.page.get(run.state) ?? p.text : p.page.get('unknown') ?? p.text;
      g.fillRect(x, y, side, side);
      // Shared pages carry a mark as well as a colour: they read as "shared" in any theme.
      if (run?.state === 'shared') {
        g.fillStyle = p.hole;
        g.fillRect(x + 2, y + 2, side - 4, side - 4);
      }
      if (s.changed.has(ppn)) {
        g.strokeStyle = p.changed;
        g.lineWidth = 1;
        g.strokeRect(x + 0.5, y + 0.5, side - 1, side - 1);
      }
    }
    const marks: [number | undefined, string][] = [[this.hoverAt?.strip === s ? this.hoverAt.ppn : undefined, p.text], [document.activeElement === s.canvas ? s.selected : undefined, p.focus]];
    for (const [ppn, colour] of marks) {
      if (ppn === undefined || ppn < from || ppn >= end) continue;
      const i = ppn - from;
      g.strokeStyle = colour;
      g.lineWidth = 1.5;
      g.strokeRect((i % this.columns) * STRIP_CELL - 0.25, Math.floor(i / this.columns) * STRIP_CELL - 0.25, STRIP_CELL - 0.5, STRIP_CELL - 0.5);
    }
  }

  private ppnAt(s: Strip, ev: MouseEvent): number | undefined {
    const rect = s.canvas.getBoundingClientRect();
    const col = Math.floor((ev.clientX - rect.left) / STRIP_CELL);
    const row = Math.floor((ev.clientY - rect.top) / STRIP_CELL);
    if (col < 0 || col >= this.columns || row < 0) return undefined;
    const ppn = this.fromPpn + row * this.columns + col;
    return ppn < Math.min(this.fromPpn + this.size(), s.vm.pages) ? ppn : undefined;
  }

  private describe(s: Strip, ppn: number): string[] {
    const lines = describePage(s.vm, ppn, s.index.runAt(ppn));
    if (s.changed.has(ppn) && this.before) lines.push(`changed since stop ${this.before.stopCount}`);
    return lines;
  }

  private open(s: Strip, ppn: number): void {
    if (!openable(s.index.runAt(ppn))) return;
    this.host.post({ type: 'openMemory', reference: `gpa:${s.vm.vm}:${hex(ppn * 4096)}`, label: `${s.vm.name} ppn ${hex(ppn)}` });
  }

  private select(s: Strip, ppn: number): void {
    const end = Math.min(this.fromPpn + this.size(), s.vm.pages);
    s.selected = Math.max(this.fromPpn, Math.min(end - 1, ppn));
    this.host.announce(this.describe(s, s.selected).join(', '));
    this.draw(s);
  }

  /** Listeners once per canvas; they act on the VM's current strip (a refresh replaces it). */
  private wire(vm: number, canvas: HTMLCanvasElement): void {
    const cur = (): Strip | undefined => this.strips.find((x) => x.vm.vm === vm);
    canvas.addEventListener('mousemove', (ev) => {
      const s = cur();
      if (!s) return;
      const ppn = this.ppnAt(s, ev);
      const prev = this.hoverAt;
      this.hoverAt = ppn === undefined ? undefined : { strip: s, ppn };
      if (prev?.ppn !== ppn || prev?.strip !== s) {
        if (prev && prev.strip !== s) this.draw(prev.strip);
        this.draw(s);
      }
      if (ppn === undefined) this.host.hideTip();
      else this.host.showTip(this.describe(s, ppn).concat(openable(s.index.runAt(ppn)) ? ['click: open the page in the memory view'] : []), ev);
    });
    canvas.addEventListener('mouseleave', () => {
      this.hoverAt = undefined;
      this.host.hideTip();
      const s = cur();
      if (s) this.draw(s);
    });
    canvas.addEventListener('click', (ev) => {
      const s = cur();
      const ppn = s && this.ppnAt(s, ev);
      if (!s || ppn === undefined) return;
      this.select(s, ppn);
      this.open(s, ppn);
    });
    canvas.addEventListener('keydown', (ev) => {
      const s = cur();
      if (!s) return;
      const moves: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -this.columns, ArrowDown: this.columns };
      if (ev.key in moves) this.select(s, s.selected + moves[ev.key]);
      else if (ev.key === 'Enter' || ev.key === ' ') this.open(s, s.selected);
      else if (ev.key === 'PageDown' || ev.key === 'PageUp') {
        for (const x of this.strips) x.selected = this.fromPpn + (ev.key === 'PageDown' ? 1 : -1) * this.size();
        this.move(ev.key === 'PageDown' ? 1 : -1);
      } else return;
      ev.preventDefault();
    });
    canvas.addEventListener('focus', () => {
      const s = cur();
      if (s) this.select(s, s.selected);
    });
    canvas.addEventListener('blur', () => {
      const s = cur();
      if (s) this.draw(s);
    });
  }

  /** The panel was resized: a different column count is a different window. */
  relayout(): void {
    if (!this.strips.length) return;
    const cols = columnsFor(this.list.clientWidth || 900, STRIP_CELL, 0);
    if (cols === this.columns) return;
    this.columns = cols;
    this.fromPpn = pageWindow(this.fromPpn, this.size(), this.maxPages).from;
    this.host.windowMoved(this.fromPpn);
    this.renderStrips();
    this.ask();
  }
}
