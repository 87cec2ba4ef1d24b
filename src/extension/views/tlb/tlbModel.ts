// The TLB view as plain data: one vCPU's entries grouped by tag (VPID, PCID), this vCPU's tag
// first, each row `vpn → frame` with page size and flags; entries new or changed since the
// previous stop marked; the counters for the view's description.
import type { TlbEntryWire, TlbWire } from '../../../debugAdapter/viewsProtocol';
import { hex, sizeText, thousands } from '../format';
import { CHANGED_COLOR, CHANGED_SUFFIX } from '../row';
import type { Row } from '../row';

export interface TlbGroup {
  type: 'group';
  id: string;
  vpid: number;
  pcid: number;
  mine: boolean;
  current: boolean;
  entries: TlbEntryWire[];
}

export interface TlbRow {
  type: 'entry';
  id: string;
  entry: TlbEntryWire;
  changed: boolean;
}

export type TlbNode = TlbGroup | TlbRow;

/** What identifies an entry's content: a refill with other rights or frame is a change. */
export function entryKey(e: TlbEntryWire): string {
  return `${e.vpid}:${e.pcid}:${e.vpn}:${e.large ? 'L' : 's'}:${e.frame}:${flagLetters(e)}`;
}

/** W U X G D, '-' when clear (QEMU's `info tlb` order for the ones a TLB entry keeps). */
export function flagLetters(e: TlbEntryWire): string {
  return `${e.write ? 'W' : '-'}${e.user ? 'U' : '-'}${e.execute ? 'X' : '-'}${e.global ? 'G' : '-'}${e.dirty ? 'D' : '-'}`;
}

const tagText = (vpid: number, pcid: number): string => `VPID ${vpid} · PCID ${pcid < 0 ? '—' : pcid}`;

export function tlbGroups(t: TlbWire): TlbGroup[] {
  const byTag = new Map<string, TlbGroup>();
  for (const e of t.entries) {
    const id = `tlb/${e.vpid}/${e.pcid}`;
    let g = byTag.get(id);
    if (!g) {
      g = { type: 'group', id, vpid: e.vpid, pcid: e.pcid, mine: e.mine, current: e.mine && (t.pcid === undefined || e.pcid === t.pcid || t.pcid < 0), entries: [] };
      byTag.set(id, g);
    }
    g.entries.push(e);
  }
  const groups = [...byTag.values()];
  for (const g of groups) g.entries.sort((a, b) => a.vpn - b.vpn);
  return groups.sort((a, b) => Number(b.current) - Number(a.current) || Number(b.mine) - Number(a.mine) || a.vpid - b.vpid || a.pcid - b.pcid);
}

/** The rows of a group; `previous` is the set of entry keys at the previous stop (undefined: not read then). */
export function tlbRows(g: TlbGroup, previous: ReadonlySet<string> | undefined): TlbRow[] {
  return g.entries.map((e) => ({ type: 'entry', id: `${g.id}/${e.slot}/${e.large ? 'L' : 's'}`, entry: e, changed: previous !== undefined && !previous.has(entryKey(e)) }));
}

export function groupRow(g: TlbGroup): Row {
  const whose = g.current ? 'this vCPU' : g.mine ? 'this VM, other PCID' : 'another VM';
  return {
    id: g.id, label: tagText(g.vpid, g.pcid), description: `${whose} · ${g.entries.length} entr${g.entries.length === 1 ? 'y' : 'ies'}`,
    icon: { id: g.mine ? 'tag' : 'debug-disconnect' }, collapsible: g.mine ? 'expanded' : 'collapsed', contextValue: 'vmemTlbGroup',
    tooltip: `Entries tagged ${tagText(g.vpid, g.pcid)}${g.mine ? '' : ': they belong to another VM sharing the host TLB, and this vCPU can never hit them'}`,
  };
}

export function entryRow(r: TlbRow): Row {
  const e = r.entry;
  const frameNumber = Math.floor(e.frame / 4096);
  return {
    id: r.id,
    label: `${hex(e.vpn)} → ${hex(frameNumber)}`,
    description: `${hex(e.linearBase)} → ${hex(e.frame)} · ${sizeText(e.pageSize)} · ${flagLetters(e)}${r.changed ? CHANGED_SUFFIX : ''}`,
    icon: r.changed ? { id: 'arrow-right', color: CHANGED_COLOR } : { id: 'arrow-right' },
    collapsible: 'none',
    contextValue: e.mine ? 'vmemTlbEntry.mine' : 'vmemTlbEntry.other',
    tooltip: [
      `**vpn ${hex(e.vpn)} → frame ${hex(frameNumber)}**${r.changed ? ' — *new since the last stop*' : ''}`,
      `linear ${hex(e.linearBase)} → physical ${hex(e.frame)} (${sizeText(e.pageSize)} page${e.large ? ', large-page array' : ''})`,
      `rights: ${e.write ? 'write' : 'read-only'}, ${e.user ? 'user' : 'supervisor'}, ${e.execute ? 'execute' : 'no execute'}${e.global ? ', global' : ''}${e.dirty ? ', dirty known' : ''}`,
      `tag ${tagText(e.vpid, e.pcid)}${e.mine ? '' : ' (another VM)'} · slot ${e.slot}${e.set >= 0 ? ` (set ${e.set}, way ${e.way})` : ` (large way ${e.way})`} · last use ${thousands(e.lastUse)}`,
    ].join('  \n'),
  };
}

/** "hits 12 · misses 4 · flushes 2 · 3/96 entries" for the view's description. */
export function countersText(t: TlbWire): string {
  const c = t.counters;
  const parts = c ? [`hits ${thousands(c.hits)}`, `misses ${thousands(c.misses)}`, `flushes ${thousands(c.flushes)}`] : [];
  if (t.capacity !== undefined) parts.push(`${t.entries.length}/${t.capacity} entries`);
  return parts.join(' · ');
}
