// The Page Tables tree as plain data: VM → kind (guest PT of the selected vCPU's CR3, shadow
// roots, EPT) → tables level by level. Rows are built from the adapter's payloads only; the
// provider fetches, this module decides what each row says.
import type { TableEntryWire, TableKind, TablePayloadWire, TableRootWire, VmStatisticsWire } from '../../../debugAdapter/viewsProtocol';
import { canonical, escapeMarkdown, hex, pagingText, rangeText, sizeText } from '../format';
import { CHANGED_COLOR, CHANGED_SUFFIX } from '../row';
import type { Row } from '../row';
import { decodeEntry } from './entryBits';

/** The table a node expands to: enough to ask `vmem/tableEntries` for it. */
export interface TableRef {
  vm: number;
  kind: TableKind;
  address: number;
  level: number;
  paging: TableRootWire['paging'];
  space: TableRootWire['space'];
  vcpu?: number;
  /** The first address the table maps. */
  base: number;
}

interface NodeBase {
  id: string;
  parent?: PtNode;
}

export interface VmNode extends NodeBase {
  type: 'vm';
  vm: number;
  name: string;
  mode: string;
}

/** A kind with several roots (shadow: one per cached guest CR3) or none to show. */
export interface GroupNode extends NodeBase {
  type: 'group';
  vm: number;
  kind: TableKind;
  roots: TableRootWire[];
  /** Why there is nothing under it, when there is not. */
  empty?: string;
}

export interface RootNode extends NodeBase {
  type: 'root';
  root: TableRootWire;
  /** Shown as the kind itself ("Guest PT") when it is the kind's only root. */
  standalone: boolean;
  table: TableRef;
}

export interface EntryNode extends NodeBase {
  type: 'entry';
  entry: TableEntryWire;
  /** The table holding this entry. */
  table: TableRef;
  levelName: string;
  /** The table the entry points to, when it is not a leaf. */
  child?: TableRef;
  changed: boolean;
}

export interface NoticeNode extends NodeBase {
  type: 'notice';
  message: string;
  error: boolean;
}

export type PtNode = VmNode | GroupNode | RootNode | EntryNode | NoticeNode;

export const KIND_TITLES: Record<TableKind, string> = { guest: 'Guest PT', shadow: 'Shadow PT', ept: 'EPT' };

export function tableKey(t: Pick<TableRef, 'vm' | 'kind' | 'address' | 'level'>): string {
  return `${t.vm}:${t.kind}:${t.address}:${t.level}`;
}

function rootRef(r: TableRootWire): TableRef {
  return { vm: r.vm, kind: r.kind, address: r.address, level: r.level, paging: r.paging, space: r.space, vcpu: r.vcpu, base: 0 };
}

/** The VM nodes, from the statistics' VM list (names and modes). */
export function vmNodes(vms: readonly Pick<VmStatisticsWire, 'vm' | 'name' | 'mode'>[]): VmNode[] {
  return vms.map((v) => ({ type: 'vm', id: `pt/${v.vm}`, vm: v.vm, name: v.name, mode: v.mode }));
}

/**
 * The kinds of one VM. Guest PT: the selected vCPU's CR3 when the selection is in this VM, else
 * the lowest vCPU with paging on. Shadow PT: the current root first, then the cached ones.
 * EPT: its one root. A kind the VM's mode does not have is left out.
 */
export function kindNodes(vm: VmNode, roots: readonly TableRootWire[], selected: { vm: number; vcpu: number } | undefined): PtNode[] {
  const mine = roots.filter((r) => r.vm === vm.vm);
  const out: PtNode[] = [];
  const guests = mine.filter((r) => r.kind === 'guest');
  const wantedCpu = selected && selected.vm === vm.vm ? selected.vcpu : undefined;
  const guest = (wantedCpu !== undefined ? guests.find((r) => r.vcpu === wantedCpu) : undefined) ?? (wantedCpu === undefined ? guests[0] : undefined);
  if (guest) out.push({ type: 'root', id: `pt/${vm.vm}/guest`, parent: vm, root: guest, standalone: true, table: rootRef(guest) });
  else out.push({ type: 'group', id: `pt/${vm.vm}/guest`, parent: vm, vm: vm.vm, kind: 'guest', roots: [], empty: wantedCpu !== undefined ? `paging is off on vcpu${wantedCpu}` : 'paging is off' });
  const shadows = mine.filter((r) => r.kind === 'shadow').sort((a, b) => Number(b.vcpu !== undefined) - Number(a.vcpu !== undefined));
  if (shadows.length > 0 || vm.mode === 'shadow') {
    out.push({ type: 'group', id: `pt/${vm.vm}/shadow`, parent: vm, vm: vm.vm, kind: 'shadow', roots: shadows, empty: shadows.length ? undefined : 'no shadow root built yet' });
  }
  const ept = mine.find((r) => r.kind === 'ept');
  if (ept) out.push({ type: 'root', id: `pt/${vm.vm}/ept`, parent: vm, root: ept, standalone: true, table: rootRef(ept) });
  return out;
}

export function groupChildren(g: GroupNode): PtNode[] {
  if (g.roots.length === 0) return [{ type: 'notice', id: `${g.id}/empty`, parent: g, message: g.empty ?? 'nothing to show', error: false }];
  return g.roots.map((r) => ({ type: 'root', id: `${g.id}/${r.address}`, parent: g, root: r, standalone: false, table: rootRef(r) }));
}

/**
 * A table's entry nodes. `previous` maps index → value at the previous stop (undefined: the
 * table was not read then, so nothing can be called changed).
 */
export function entryNodes(parent: RootNode | EntryNode, table: TableRef, payload: TablePayloadWire, previous: ReadonlyMap<number, string> | undefined, showNotPresent: boolean): PtNode[] {
  const out: PtNode[] = [];
  for (const e of payload.entries) {
    if (!e.present && !showNotPresent) continue;
    const before = previous?.get(e.index);
    const changed = previous !== undefined && (e.present ? before !== e.value : before !== undefined);
    const child: TableRef | undefined = e.present && !e.leaf && e.childLevel !== undefined && e.target !== null
      ? { vm: table.vm, kind: table.kind, address: e.target, level: e.childLevel, paging: table.paging, space: table.space, vcpu: table.vcpu, base: e.maps.from }
      : undefined;
    out.push({ type: 'entry', id: `${parent.id}/${e.index}`, parent, entry: e, table, levelName: payload.levelName, child, changed });
  }
  if (out.length === 0) {
    out.push({ type: 'notice', id: `${parent.id}/none`, parent, message: payload.presentCount === 0 ? 'no present entries' : 'all entries hidden', error: false });
  }
  return out;
}

/**
 * Do the rows a view holds say exactly what `rows` say — labels, descriptions, icons and changed
 * marks, and what the tooltips and children are made of (values, entry addresses, child tables)?
 * Then a table need not be redrawn at this stop.
 */
export function sameRows(held: readonly PtNode[] | undefined, rows: readonly PtNode[]): boolean {
  if (!held || held.length !== rows.length) return false;
  const sig = (n: PtNode): string => JSON.stringify([rowOf(n, false), n.type === 'entry' ? [n.entry.value, n.entry.entryAddress, n.levelName, n.child ? [tableKey(n.child), n.child.base, n.child.paging] : null] : null]);
  return held.every((h, i) => sig(h) === sig(rows[i]));
}

/** The values of a table's present entries, as the next stop compares them. */
export function presentValues(payload: TablePayloadWire): Map<number, string> {
  return new Map(payload.entries.filter((e) => e.present).map((e) => [e.index, e.value]));
}

/** Guest tables and their targets are guest-physical (machine in paravirtual mode); shadow and EPT tables are in machine memory. */
const spaceOf = (t: TableRef): string => (t.kind === 'guest' ? t.space : 'mpa');
const targetSpace = spaceOf;

/**
 * The row of a node. `withTooltip` false leaves an entry's tooltip out (the provider resolves it
 * on hover, entryTooltip(): the bit tables are two thirds of a table's rows and are read one at a
 * time, if ever).
 */
export function rowOf(node: PtNode, withTooltip = true): Row {
  switch (node.type) {
    case 'vm':
      return {
        id: node.id, label: node.name, description: node.mode, icon: { id: 'vm' }, collapsible: 'expanded', contextValue: 'vmemVm',
        tooltip: `**${escapeMarkdown(node.name)}** (VM ${node.vm}) · ${escapeMarkdown(node.mode)} mode`,
      };
    case 'group':
      return {
        id: node.id, label: KIND_TITLES[node.kind], description: node.roots.length ? `${node.roots.length} root${node.roots.length > 1 ? 's' : ''}` : node.empty,
        icon: { id: 'list-tree' }, collapsible: node.roots.length ? 'expanded' : 'none', contextValue: 'vmemTableGroup',
      };
    case 'root': {
      const r = node.root;
      const where = `${r.space} ${hex(r.address)}`;
      return {
        id: node.id,
        label: node.standalone ? KIND_TITLES[r.kind] : r.label,
        description: node.standalone ? `${r.label} · ${pagingText(r.paging)} · ${where}` : `${pagingText(r.paging)} · ${where}`,
        tooltip: `**${KIND_TITLES[r.kind]}** of VM ${r.vm}  \n${escapeMarkdown(r.label)}  \nroot table at ${where} (level ${r.level}, ${pagingText(r.paging)})`,
        icon: { id: r.kind === 'ept' ? 'server' : r.kind === 'shadow' ? 'mirror' : 'symbol-structure' },
        collapsible: 'collapsed', contextValue: 'vmemTableRoot',
      };
    }
    case 'entry':
      return entryRow(node, withTooltip);
    case 'notice':
      return { id: node.id, label: node.message, icon: { id: node.error ? 'error' : 'info' }, collapsible: 'none', contextValue: 'vmemNotice' };
  }
}

function entryRow(node: EntryNode, withTooltip: boolean): Row {
  const e = node.entry;
  const t = node.table;
  const linear = t.kind !== 'ept';
  const paging = linear ? t.paging : undefined;
  const range = rangeText(e.maps.from, e.maps.to, paging);
  const span = e.maps.to - e.maps.from;
  let target: string;
  if (!e.present || e.target === null) target = 'not present';
  else if (e.leaf) target = `→ ${hex(e.target)} (${sizeText(span)} page)`;
  else target = `→ ${hex(e.target)}`;
  const flags = e.present ? ` · ${e.flags}` : '';
  return {
    id: node.id,
    label: `[${e.index}] ${range}`,
    description: `${target}${flags}${node.changed ? CHANGED_SUFFIX : ''}`,
    tooltip: withTooltip ? entryTooltip(node) : undefined,
    icon: node.changed ? { id: e.leaf ? 'file-binary' : 'symbol-array', color: CHANGED_COLOR } : { id: !e.present ? 'circle-slash' : e.leaf ? 'file-binary' : 'symbol-array' },
    collapsible: node.child ? 'collapsed' : 'none',
    contextValue: linear ? 'vmemEntry.linear' : 'vmemEntry.ept',
  };
}

/** An entry's tooltip: what it maps and where, then its bits decoded (Markdown). */
export function entryTooltip(node: EntryNode): string {
  const e = node.entry;
  const t = node.table;
  const linear = t.kind !== 'ept';
  const range = rangeText(e.maps.from, e.maps.to, linear ? t.paging : undefined);
  const span = e.maps.to - e.maps.from;
  const bits = decodeEntry(e.value, { kind: t.kind, level: t.level, leaf: e.leaf, present: e.present, paging: t.paging });
  const head = [
    `**${escapeMarkdown(node.levelName)}[${e.index}]** = \`${e.value}\`${node.changed ? ' — *changed since the last stop*' : ''}`,
    `entry at ${spaceOf(t)} ${hex(e.entryAddress)} · maps ${linear ? 'gva' : 'gpa'} ${range} (${sizeText(span)})`,
    e.present && e.target !== null ? `${e.leaf ? 'page' : 'next table'} at ${targetSpace(t)} ${hex(e.target)}` : 'not present',
  ].join('  \n');
  const table = ['| bits | field | value | meaning |', '|---|---|---|---|', ...bits.map((b) => `| ${b.bits} | ${b.name} | ${b.value} | ${escapeMarkdown(b.meaning)} |`)].join('\n');
  return `${head}\n\n${table}`;
}

/** The address "Show Address Translation" opens for an entry: the first gva it maps (canonical). */
export function entryGva(node: EntryNode): string | undefined {
  if (node.table.kind === 'ept') return undefined;
  return hex(canonical(BigInt(node.entry.maps.from), node.table.paging));
}
