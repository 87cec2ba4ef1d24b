// Renders the Address Translation model into DOM: the four columns side by side, each changed
// cell marked. Every string goes through textContent (dom.ts): fault descriptions and notes are
// guest-influenced.
import { h, icon } from '../shared/dom';
import type { Child } from '../shared/dom';
import { FLAG_ORDER, FLAG_TITLES, flagLetter, hex } from '../shared/format';
import type { EntryFlagsLike } from '../shared/format';
import type { EptGrid, LevelRow, NotApplicable, ShadowColumn, TlbColumn, TranslationModel, WalkColumn } from './model';

export interface RenderContext {
  changed: Set<string>;
  /** The stop the changed marks compare with, for their tooltips. */
  sinceStop?: number;
}

function mark(ctx: RenderContext, key: string, cls = ''): string {
  return ctx.changed.has(key) ? `${cls} changed`.trim() : cls;
}

function changedTitle(ctx: RenderContext): string {
  return ctx.sinceStop !== undefined ? `changed since stop ${ctx.sinceStop}` : 'changed';
}

function flagChips(ctx: RenderContext, row: LevelRow): HTMLElement {
  const chips: Child[] = [];
  for (const f of FLAG_ORDER) {
    const key = `${row.key}:flag:${f}`;
    const flipped = ctx.changed.has(key);
    if (!row.flags[f] && !flipped) continue;
    const on = row.flags[f as keyof EntryFlagsLike];
    chips.push(h('span', {
      class: `flag flag-${f}${on ? '' : ' cleared'}${flipped ? ' changed' : ''}`,
      title: `${FLAG_TITLES[f]}${on ? '' : ' (cleared)'}${flipped ? ` — ${changedTitle(ctx)}` : ''}`,
    }, flagLetter(f)));
  }
  if (chips.length === 0) chips.push(h('span', { class: 'flag cleared', title: 'no flags set' }, '—'));
  return h('span', { class: 'flags' }, ...chips);
}

/** A walk (guest or shadow) as a table; rows are keyboard-navigable, Enter opens the table in memory. */
export function walkTable(ctx: RenderContext, col: WalkColumn, caption: string): HTMLElement {
  const head = h('tr', {}, ...['Level', 'Table', 'Index', 'Entry', 'Flags', 'Rights so far'].map((t) => h('th', { scope: 'col' }, t)));
  const rows = col.rows.map((r, i) =>
    h('tr', {
      class: mark(ctx, r.key, `walk-row${r.present ? '' : ' not-present'}${r.leaf ? ' leaf' : ''}`),
      'data-row': i, 'data-col': 0, 'data-ref': r.tableRef, 'data-label': `${r.name} table ${hex(r.tableAddress)}`,
      'data-key': r.key,
      'aria-label': `${r.name}: table ${r.space} ${hex(r.tableAddress)}, index ${r.index}, entry ${r.entry}${r.present ? '' : ', not present'}${ctx.changed.has(r.key) ? ', changed' : ''}`,
      title: ctx.changed.has(r.key) ? changedTitle(ctx) : `Enter: open the ${r.name} table in the memory view`,
    },
    h('th', { scope: 'row', class: 'level' }, r.name),
    h('td', { class: 'addr' }, h('span', { class: 'space' }, r.space), ' ', hex(r.tableAddress)),
    h('td', { class: 'num' }, String(r.index)),
    h('td', { class: 'entry mono' }, r.entry, r.reservedBits.length ? h('span', { class: 'reserved', title: `reserved bits set: ${r.reservedBits.join(', ')}` }, ' ', icon('warning')) : null),
    h('td', {}, flagChips(ctx, r)),
    h('td', { class: 'mono rights' }, r.rights)));
  return h('table', { class: 'walk', role: 'grid', 'aria-label': caption }, h('thead', {}, head), h('tbody', {}, ...rows));
}

function outcome(ok: boolean, text: string, key?: string, ctx?: RenderContext): HTMLElement {
  return h('p', { class: `outcome ${ok ? 'ok' : 'fail'}${key && ctx?.changed.has(key) ? ' changed' : ''}` }, icon(ok ? 'pass' : 'error'), ' ', text);
}

function notApplicable(na: NotApplicable): HTMLElement {
  return h('p', { class: 'na' }, icon('circle-slash'), ' ', na.reason);
}

function column(cls: string, title: string, subtitle: string | null, ...body: Child[]): HTMLElement {
  return h('section', { class: `column ${cls}`, 'aria-label': title },
    h('h2', {}, title, subtitle ? h('span', { class: 'subtitle' }, subtitle) : null), ...body);
}

export function guestColumn(ctx: RenderContext, m: TranslationModel): HTMLElement {
  const g = m.guest;
  const body: Child[] = [];
  if (g.rows.length) body.push(walkTable(ctx, g, 'Guest page walk'));
  body.push(outcome(g.ok, g.outcome, 'chain:gpa', ctx));
  const refs = m.mode === 'nested' ? `${g.references} guest entries read` : `${g.references} memory references`;
  return column('guest', 'Guest walk', `${m.pagingMode} · ${refs}`, ...body);
}

export function eptColumn(ctx: RenderContext, m: TranslationModel): HTMLElement {
  const e = m.ept;
  if (e.kind === 'na') return column('ept na-column', 'EPT', null, notApplicable(e));
  return column('ept', 'EPT — 2-D walk', `${e.references} memory references`, eptGridElement(ctx, e));
}

function eptGridElement(ctx: RenderContext, g: EptGrid): HTMLElement {
  const headCells: Child[] = [h('div', { class: 'g-head g-corner', role: 'columnheader' }, 'translates')];
  for (const c of g.columns) headCells.push(h('div', { class: 'g-head', role: 'columnheader' }, c.name));
  headCells.push(h('div', { class: 'g-head', role: 'columnheader' }, 'guest entry'));
  const rows: HTMLElement[] = [h('div', { class: 'g-row', role: 'row' }, ...headCells)];
  g.rows.forEach((row, ri) => {
    const cells: Child[] = [h('div', { class: 'g-label', role: 'rowheader' }, h('span', {}, row.label), h('span', { class: 'gpa' }, `gpa ${hex(row.gpa)}`))];
    row.cells.forEach((c, ci) => {
      if (!c) {
        const why = row.outcome && ci >= row.cells.findIndex((x) => x === null) ? 'not read' : row.cachedLevels > 0 ? 'cached' : '';
        cells.push(h('div', { class: 'g-cell empty', role: 'gridcell', 'aria-label': why || 'not read' }, why));
        return;
      }
      cells.push(h('div', {
        class: mark(ctx, c.key, `g-cell${c.leaf ? ' leaf' : ''}`), role: 'gridcell',
        'data-row': ri, 'data-col': ci, 'data-ref': `mpa:${hex(c.tableAddress)}`, 'data-label': `${c.name} table ${hex(c.tableAddress)}`,
        'data-key': c.key,
        'aria-label': `reference ${c.order}: ${c.name} for ${row.label}, table mpa ${hex(c.tableAddress)} index ${c.index}, entry ${c.entry}${ctx.changed.has(c.key) ? ', changed' : ''}`,
        title: `${c.name} [${c.index}] in table mpa ${hex(c.tableAddress)}${ctx.changed.has(c.key) ? ` — ${changedTitle(ctx)}` : ''}`,
      },
      h('span', { class: 'order', 'aria-hidden': 'true' }, String(c.order)),
      h('span', { class: 'mono' }, c.entry),
      h('span', { class: 'cell-flags' }, `[${c.index}] ${c.flags.join(' ')}`)));
    });
    if (row.guestRead) {
      const r = row.guestRead;
      cells.push(h('div', {
        class: mark(ctx, r.key, 'g-cell guest-read'), role: 'gridcell',
        'data-row': ri, 'data-col': row.cells.length, 'data-ref': r.mpa !== undefined ? `mpa:${hex(r.mpa)}` : '', 'data-label': `${r.name} at mpa ${hex(r.mpa)}`,
        'data-key': r.key,
        'aria-label': `reference ${r.order}: guest ${r.name} read at mpa ${hex(r.mpa)}, entry ${r.entry}${ctx.changed.has(r.key) ? ', changed' : ''}`,
        title: `the guest's ${r.name}, read at mpa ${hex(r.mpa)}`,
      },
      h('span', { class: 'order', 'aria-hidden': 'true' }, String(r.order)),
      h('span', { class: 'mono' }, r.entry),
      h('span', { class: 'cell-flags' }, r.name)));
    } else {
      const last = row.purpose === 'final' ? (row.mpa !== undefined ? `→ mpa ${hex(row.mpa)}` : '') : '';
      cells.push(h('div', { class: 'g-cell empty final' }, last));
    }
    rows.push(h('div', { class: `g-row${row.outcome ? ' stopped' : ''}`, role: 'row' }, ...cells));
    if (row.outcome) rows.push(h('div', { class: 'g-row g-outcome' }, h('div', { class: 'g-note' }, icon('error'), ' ', row.outcome)));
  });
  for (const name of g.notReached) rows.push(h('div', { class: 'g-row g-outcome' }, h('div', { class: 'g-note' }, `${name} table: not reached`)));
  const grid = h('div', {
    class: 'grid2d', role: 'grid', 'aria-label': `2-D walk: ${g.rows.length} rows, ${g.references} memory references`,
    'aria-colcount': g.columns.length + 2,
  }, ...rows);
  grid.style.setProperty('--ept-cols', String(g.columns.length));
  return h('div', { class: 'grid-wrap' }, grid,
    h('p', { class: 'refcount' }, h('strong', { class: 'total' }, String(g.references)), ' memory references · worst case ', g.formula),
    outcome(g.ok, g.outcome));
}

export function shadowColumnEl(ctx: RenderContext, s: ShadowColumn | NotApplicable): HTMLElement {
  if (s.kind === 'na') return column('shadow na-column', 'Shadow PT', null, notApplicable(s));
  const body: Child[] = [
    h('p', { class: mark(ctx, 'shadow:agrees', `agreement ${s.agrees ? 'agrees' : 'disagrees'}`) }, icon(s.agrees ? 'check' : 'warning'), ' ', s.agrees ? 'agrees with guest walk ∘ p2m' : 'DISAGREES with guest walk ∘ p2m'),
    h('p', { class: 'note' }, s.note),
  ];
  if (s.walk) {
    if (s.walk.rows.length) body.push(walkTable(ctx, s.walk, 'Shadow page walk'));
    body.push(outcome(s.walk.ok, s.walk.outcome, 'chain:mpa', ctx));
  }
  body.push(h('p', { class: 'expected' }, 'guest walk ∘ p2m → ', h('span', { class: 'mono' }, s.expectedMpa === null ? '—' : `mpa ${hex(s.expectedMpa)}`)));
  return column('shadow', 'Shadow PT', s.walk ? `gva → mpa · ${s.walk.references} references` : null, ...body);
}

export function tlbColumnEl(ctx: RenderContext, t: TlbColumn): HTMLElement {
  const status = h('p', { class: mark(ctx, 'tlb:presence', `tlb-status ${t.hit ? 'hit' : 'miss'}`), title: ctx.changed.has('tlb:presence') ? changedTitle(ctx) : '' },
    icon(t.hit ? 'pass-filled' : 'circle-large-outline'), ' ', t.hit ? 'hit' : 'miss — the next access walks the tables');
  const body: Child[] = [status, h('p', { class: 'tag' }, `this vCPU's tag: ${t.tag}${t.shared ? ' (host TLB shared by the VMs)' : ''}`)];
  if (t.entry.length) {
    body.push(h('dl', { class: 'kv' }, ...t.entry.flatMap((e) => [h('dt', {}, e.label), h('dd', { class: mark(ctx, e.key, 'mono') }, e.value)])));
  }
  if (t.counters) body.push(h('p', { class: 'counters' }, t.counters));
  return column('tlb', 'TLB', null, ...body);
}

export function chainEl(ctx: RenderContext, m: TranslationModel): HTMLElement {
  const step = (label: string, value: string | null, key?: string): HTMLElement =>
    h('span', { class: `${value === null ? 'hop missing' : 'hop'}${key && ctx.changed.has(key) ? ' changed' : ''}` }, h('span', { class: 'space' }, label), ' ', value ?? '—');
  const arrow = (): HTMLElement => h('span', { class: 'arrow', 'aria-hidden': 'true' }, '→');
  return h('p', { class: `chain ${m.ok ? 'ok' : 'fail'}`, 'aria-label': 'translation result' },
    step('gva', m.chain.gva), arrow(), step('gpa', m.chain.gpa, 'chain:gpa'), arrow(), step('mpa', m.chain.mpa, 'chain:mpa'),
    h('span', { class: 'access' }, `${m.access}${m.user ? ', user' : ', supervisor'}`),
    m.reason ? h('span', { class: 'reason' }, icon('error'), ' ', m.reason) : null);
}
