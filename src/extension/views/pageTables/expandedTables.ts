// Which tables of the Page Tables view are open: the view's expand and collapse events, kept by
// node id (ids are stable from stop to stop: `pt/<vm>/guest/<index>/…`), so that at a stop every
// open table can be read in one `vmem/tables` request before the workbench asks for the levels
// one by one. A table is open when its node is expanded and so is every node above it: VS Code
// remembers the expansion of the nodes under a collapsed one, which show nothing until it opens
// again. VM and kind-group nodes start expanded; table nodes start collapsed.
import type { PtNode, TableRef } from './ptModel';

interface OpenTable {
  table: TableRef;
  /** The ids of the nodes above, nearest first. */
  above: string[];
}

export interface WantedTable {
  nodeId: string;
  table: TableRef;
}

/** The table a node expands to (its children are that table's entries), if any. */
export function tableOf(node: PtNode): TableRef | undefined {
  if (node.type === 'root') return node.table;
  if (node.type === 'entry') return node.child;
  return undefined;
}

/** Nodes that start expanded (their TreeItem's collapsible state is 'expanded'). */
const startsExpanded = (node: PtNode): boolean => node.type === 'vm' || node.type === 'group';

export class ExpandedTables {
  private readonly open = new Map<string, OpenTable>();
  /** Nodes that start expanded and were collapsed. */
  private readonly folded = new Set<string>();
  /** Every id seen, and whether it starts expanded. */
  private readonly expandedByDefault = new Map<string, boolean>();

  /** The node was expanded; whatever is above it is open too (it shows), whatever the events said. */
  expanded(node: PtNode): void {
    for (let n: PtNode | undefined = node; n; n = n.parent) {
      this.expandedByDefault.set(n.id, startsExpanded(n));
      this.folded.delete(n.id);
      const table = tableOf(n);
      if (!table) continue;
      const above: string[] = [];
      for (let p = n.parent; p; p = p.parent) above.push(p.id);
      this.open.set(n.id, { table, above });
    }
  }

  collapsed(node: PtNode): void {
    this.expandedByDefault.set(node.id, startsExpanded(node));
    this.open.delete(node.id);
    if (startsExpanded(node)) this.folded.add(node.id);
  }

  /** A node built afresh (at a later stop): an open one now expands to the table it shows now. */
  rebuilt(node: PtNode): void {
    const t = this.open.get(node.id);
    const table = tableOf(node);
    if (t && table) t.table = table;
  }

  clear(): void {
    this.open.clear();
    this.folded.clear();
    this.expandedByDefault.clear();
  }

  /** Is this node showing its children (expanded, by the user or by default)? */
  isShowing(node: PtNode): boolean {
    return this.open.has(node.id) || (startsExpanded(node) && !this.folded.has(node.id));
  }

  /** Is the node with this id showing its children? */
  isOpen(id: string): boolean {
    if (this.open.has(id)) return true;
    return this.expandedByDefault.get(id) === true && !this.folded.has(id);
  }

  /** The open tables (expanded, and everything above them too), parents before children. */
  tables(): WantedTable[] {
    const out: WantedTable[] = [];
    for (const [nodeId, t] of this.open) {
      if (t.above.every((id) => this.isOpen(id))) out.push({ nodeId, table: t.table });
    }
    return out.sort((a, b) => a.nodeId.split('/').length - b.nodeId.split('/').length);
  }
}
