// The Address Translation panel's view model: a `vmem/walk` payload turned into the four columns
// the panel draws (guest walk, EPT 2-D grid, shadow walk, TLB) and the set of cells that changed
// since an earlier stop. Pure and DOM-free: unit-tested in node over real adapter payloads.
import type { TranslationWire } from '../../debugAdapter/viewsProtocol';
import type { TlbTagWire } from '../shared/messages';
import { changedFlags, count, eptFlags, hex, rights, setFlags, size } from '../shared/format';
import type { EntryFlagsLike } from '../shared/format';

type WalkWire = TranslationWire['guest'];
type LevelWire = WalkWire['levels'][number];
type SecondStageWire = NonNullable<TranslationWire['ept']>;

export type Mode = TranslationWire['mode'];

/** One paging-structure entry the walk read. */
export interface LevelRow {
  /** Stable across stops for the same query: what the changed marks key on. */
  key: string;
  name: string;
  level: number;
  tableAddress: number;
  /** Memory reference of the table (opens it in the memory view). */
  tableRef: string;
  space: 'gpa' | 'mpa';
  index: number;
  entryAddress: number;
  entry: string;
  flags: EntryFlagsLike;
  present: boolean;
  leaf: boolean;
  rights: string;
  reservedBits: number[];
}

export interface WalkColumn {
  kind: 'walk';
  rows: LevelRow[];
  ok: boolean;
  /** The walk's outcome in words: the page it reached, or why it stopped. */
  outcome: string;
  references: number;
}

/** A column that does not apply in this mode, with the reason. */
export interface NotApplicable {
  kind: 'na';
  reason: string;
}

export interface EptCell {
  key: string;
  level: number;
  name: string;
  tableAddress: number;
  index: number;
  entry: string;
  flags: string[];
  leaf: boolean;
  /** 1-based position among the walk's memory references. */
  order: number;
}

export interface EptRow {
  key: string;
  /** What this row translates: a guest table's gpa or the final gpa. */
  label: string;
  gpa: number;
  purpose: 'table' | 'final' | 'pdpte';
  /** Cells by EPT level (column order); null where the walk did not read that level. */
  cells: (EptCell | null)[];
  /** The guest entry read at the end of a table row (the 2-D walk's first-dimension reference). */
  guestRead: { key: string; name: string; entry: string; order: number; mpa: number | undefined } | null;
  mpa: number | undefined;
  /** Why the EPT walk stopped, when it did. */
  outcome?: string;
  /** Levels supplied by a walk cache instead of memory. */
  cachedLevels: number;
  references: number;
}

export interface EptGrid {
  kind: 'grid';
  columns: { level: number; name: string }[];
  rows: EptRow[];
  /** The hardware's count (authoritative); the cells drawn add up to it for a probe. */
  references: number;
  /** (n+1)(m+1)−1 for the levels walked: the textbook worst case this walk is compared with. */
  formula: string;
  /** Rows the 2-D walk did not reach (it stopped early), by guest level name. */
  notReached: string[];
  ok: boolean;
  outcome: string;
}

export interface ShadowColumn {
  kind: 'shadow';
  walk: WalkColumn | null;
  agrees: boolean;
  note: string;
  expectedMpa: number | null;
}

export interface TlbColumn {
  kind: 'tlb';
  hit: boolean;
  tag: string;
  entry: { key: string; label: string; value: string }[];
  counters: string | null;
  shared: boolean;
}

export interface TranslationModel {
  gva: string;
  mode: Mode;
  pagingMode: string;
  access: string;
  user: boolean;
  ok: boolean;
  /** gva → gpa → mpa, each null where the translation stops. */
  chain: { gva: string; gpa: string | null; mpa: string | null };
  reason: string | null;
  guest: WalkColumn;
  ept: EptGrid | NotApplicable;
  shadow: ShadowColumn | NotApplicable;
  tlb: TlbColumn;
}

const MODE_WORDS: Record<Mode, string> = {
  native: 'native mode',
  shadow: 'shadow mode',
  nested: 'nested mode',
  paravirt: 'paravirtual mode',
};

function levelRows(prefix: string, w: WalkWire, space: 'gpa' | 'mpa', vm: number): LevelRow[] {
  return w.levels.map((l: LevelWire) => ({
    key: `${prefix}:${l.level}`,
    name: l.name,
    level: l.level,
    tableAddress: l.tableAddress,
    tableRef: space === 'gpa' ? `gpa:${vm}:${hex(l.tableAddress)}` : `mpa:${hex(l.tableAddress)}`,
    space,
    index: l.index,
    entryAddress: l.entryAddress,
    entry: hex(l.entry),
    flags: l.flags,
    present: l.flags.p,
    leaf: l.leaf,
    rights: rights(l.rightsSoFar),
    reservedBits: l.reservedBits,
  }));
}

function walkOutcome(w: WalkWire, target: 'gpa' | 'mpa'): string {
  if (!w.ok) return w.reason ?? 'translation failed';
  const page = w.pageSize !== undefined ? ` (${size(w.pageSize)} page)` : '';
  return `${target} ${hex(w.physical)}${page}`;
}

function guestColumn(t: TranslationWire): WalkColumn {
  // Paravirtual guests' tables hold machine frames: the walk is in machine memory.
  const space = t.mode === 'paravirt' && t.pagingMode !== 'none' ? 'mpa' : 'gpa';
  const rows = levelRows('guest', t.guest, space, t.vmId);
  let outcome = walkOutcome(t.guest, space);
  if (t.pagingMode === 'none' && t.guest.ok) outcome = `paging off: gpa = gva = ${hex(t.guest.physical)}`;
  if (t.noMemory) outcome += ' — beyond the VM\'s memory';
  const references = t.mode === 'nested' ? t.guest.entryReads + t.guest.adWrites : t.guest.memoryReferences;
  return { kind: 'walk', rows, ok: t.guest.ok && !t.noMemory, outcome, references };
}

const EPT_NAMES: Record<number, string> = { 5: 'EPT PML5E', 4: 'EPT PML4E', 3: 'EPT PDPTE', 2: 'EPT PDE', 1: 'EPT PTE' };

/** The 2-D walk as a grid: a row per guest paging-structure reference plus the final gpa, a column per EPT level. */
export function eptGrid(t: TranslationWire): EptGrid | NotApplicable {
  if (t.mode !== 'nested') return { kind: 'na', reason: `${MODE_WORDS[t.mode]}: no EPT` };
  const twoD = t.twoD;
  if (!twoD) return { kind: 'na', reason: 'nested mode: the 2-D walk is not available for this address' };
  const stages: { label: string; stage: SecondStageWire; guest: LevelWire | null; key: string }[] = [];
  twoD.levels.forEach((l) => {
    if (l.secondStage) stages.push({ label: `guest ${l.name}E`, stage: l.secondStage, guest: l, key: `ept:${l.name}` });
  });
  if (twoD.finalSecondStage) stages.push({ label: 'data page', stage: twoD.finalSecondStage, guest: null, key: 'ept:final' });
  const levelSet = new Set<number>();
  for (const s of stages) for (const e of s.stage.levels) levelSet.add(e.level);
  // Show every level of the EPT's depth even if no row reached it (an early stop).
  const top = Math.max(4, ...levelSet);
  const columns = Array.from({ length: top }, (_, i) => top - i).map((level) => ({ level, name: EPT_NAMES[level] ?? `EPT L${level}` }));
  let order = 0;
  const rows: EptRow[] = stages.map((s) => {
    const cells: (EptCell | null)[] = columns.map(() => null);
    for (const e of s.stage.levels) {
      const col = columns.findIndex((c) => c.level === e.level);
      cells[col] = {
        key: `${s.key}:${e.level}`, level: e.level, name: e.name, tableAddress: e.tableAddress, index: e.index,
        entry: hex(e.entry), flags: eptFlags(e.entry), leaf: e.leaf, order: ++order,
      };
    }
    let guestRead: EptRow['guestRead'] = null;
    if (s.guest && s.stage.ok) {
      guestRead = { key: `${s.key}:guest`, name: s.guest.name + 'E', entry: hex(s.guest.entry), order: ++order, mpa: s.stage.mpa };
    }
    return {
      key: s.key, label: s.label, gpa: s.stage.gpa, purpose: s.stage.purpose, cells, guestRead, mpa: s.stage.mpa,
      outcome: s.stage.outcome, cachedLevels: s.stage.cachedLevels,
      references: s.stage.memoryReferences + (guestRead ? 1 : 0),
    };
  });
  const n = t.pagingMode === 'none' ? 0 : t.guest.levels.length;
  const m = Math.max(0, ...stages.filter((s) => s.stage.ok).map((s) => s.stage.levels.length));
  const formula = n === 0 ? `paging off: the EPT walk alone, ${m} references` : `(${n}+1)(${m}+1)−1 = ${(n + 1) * (m + 1) - 1}`;
  const reached = new Set(twoD.levels.map((l) => l.level));
  const notReached = t.guest.levels.filter((l) => !reached.has(l.level)).map((l) => l.name);
  const outcome = twoD.ok ? `mpa ${hex(twoD.physical)}` : twoD.reason ?? 'the 2-D walk stopped';
  return { kind: 'grid', columns, rows, references: twoD.memoryReferences, formula, notReached, ok: twoD.ok, outcome };
}

function shadowColumn(t: TranslationWire): ShadowColumn | NotApplicable {
  if (!t.shadow) {
    const why: Record<Mode, string> = {
      native: 'native mode: no shadow page tables — the MMU walks the guest\'s own tables',
      nested: 'nested mode: no shadow page tables — the MMU walks guest PT and EPT',
      paravirt: 'paravirtual mode: no shadow page tables — the guest\'s tables hold machine frames',
      shadow: 'shadow mode: no shadow tables for this vCPU',
    };
    return { kind: 'na', reason: why[t.mode] };
  }
  const w = t.shadow.walk;
  const walk: WalkColumn | null = w
    ? { kind: 'walk', rows: levelRows('shadow', w, 'mpa', t.vmId), ok: w.ok, outcome: walkOutcome(w, 'mpa'), references: w.memoryReferences }
    : null;
  return { kind: 'shadow', walk, agrees: t.shadow.agrees, note: t.shadow.note, expectedMpa: t.shadow.expectedMpa };
}

function tlbColumn(t: TranslationWire, tag: TlbTagWire | null): TlbColumn {
  const tagText = tag ? [tag.vpid !== undefined ? `VPID ${tag.vpid}` : null, tag.pcid !== undefined ? `PCID ${tag.pcid}` : null].filter(Boolean).join(' · ') || 'untagged' : 'untagged';
  const c = tag?.counters;
  const counters = c ? `${count(c.hits)} hits · ${count(c.misses)} misses · ${count(c.flushes)} flushes` : null;
  const e = t.tlb;
  if (!e) return { kind: 'tlb', hit: false, tag: tagText, entry: [], counters, shared: tag?.shared ?? false };
  const r = e.rights;
  return {
    kind: 'tlb', hit: true, tag: tagText, counters, shared: tag?.shared ?? false,
    entry: [
      { key: 'tlb:vpn', label: 'vpn', value: hex(e.vpn) },
      { key: 'tlb:frame', label: 'frame', value: hex(e.frame) },
      { key: 'tlb:size', label: 'page size', value: size(e.pageSize) },
      { key: 'tlb:rights', label: 'rights', value: rights(r) },
      { key: 'tlb:global', label: 'global', value: e.global ? 'yes' : 'no' },
      { key: 'tlb:dirty', label: 'dirty', value: e.dirty ? 'yes' : 'no' },
      { key: 'tlb:tag', label: 'tag', value: `VPID ${e.vpid} · PCID ${e.pcid}` },
      { key: 'tlb:slot', label: 'slot', value: e.large ? `large-page slot ${e.way}` : `set ${e.set}, way ${e.way}` },
    ],
  };
}

const PAGING_WORDS: Record<string, string> = { none: 'paging off', '32bit': '32-bit paging', pae: 'PAE paging', '4level': '4-level paging', '5level': '5-level paging' };

export function translationModel(t: TranslationWire, tag: TlbTagWire | null): TranslationModel {
  return {
    gva: hex(t.gva),
    mode: t.mode,
    pagingMode: PAGING_WORDS[t.pagingMode] ?? t.pagingMode,
    access: t.access,
    user: t.guest.user,
    ok: t.ok,
    chain: { gva: hex(t.gva), gpa: t.gpa === null ? null : hex(t.gpa), mpa: t.mpa === null ? null : hex(t.mpa) },
    reason: t.reason,
    guest: guestColumn(t),
    ept: eptGrid(t),
    shadow: shadowColumn(t),
    tlb: tlbColumn(t, tag),
  };
}

/**
 * What changed between two models of the same query at two stops: keys of rows and cells whose
 * entry changed or appeared, `<row key>:flag:<name>` for each flag that flipped (A and D above
 * all), and `tlb:presence` / `tlb:<field>` / `chain:<gpa|mpa>` / `shadow:agrees`.
 */
export function changedKeys(before: TranslationModel, after: TranslationModel): Set<string> {
  const out = new Set<string>();
  const rowsOf = (m: TranslationModel): LevelRow[] => [...m.guest.rows, ...(m.shadow.kind === 'shadow' && m.shadow.walk ? m.shadow.walk.rows : [])];
  const old = new Map(rowsOf(before).map((r) => [r.key, r]));
  for (const r of rowsOf(after)) {
    const o = old.get(r.key);
    if (!o) {
      out.add(r.key);
      continue;
    }
    if (o.entry !== r.entry || o.tableAddress !== r.tableAddress) out.add(r.key);
    for (const f of changedFlags(o.flags, r.flags)) out.add(`${r.key}:flag:${f}`);
  }
  const cellsOf = (m: TranslationModel): Map<string, string> => {
    const map = new Map<string, string>();
    if (m.ept.kind !== 'grid') return map;
    for (const row of m.ept.rows) {
      for (const c of row.cells) if (c) map.set(c.key, c.entry);
      if (row.guestRead) map.set(row.guestRead.key, row.guestRead.entry);
    }
    return map;
  };
  const oldCells = cellsOf(before);
  for (const [k, v] of cellsOf(after)) if (oldCells.get(k) !== v) out.add(k);
  if (before.tlb.hit !== after.tlb.hit) out.add('tlb:presence');
  const oldTlb = new Map(before.tlb.entry.map((e) => [e.key, e.value]));
  if (before.tlb.hit && after.tlb.hit) for (const e of after.tlb.entry) if (oldTlb.get(e.key) !== e.value && e.key !== 'tlb:slot') out.add(e.key);
  if (before.chain.gpa !== after.chain.gpa) out.add('chain:gpa');
  if (before.chain.mpa !== after.chain.mpa) out.add('chain:mpa');
  if (before.shadow.kind === 'shadow' && after.shadow.kind === 'shadow' && (before.shadow.agrees !== after.shadow.agrees || before.shadow.note !== after.shadow.note)) out.add('shadow:agrees');
  return out;
}

export { setFlags };
