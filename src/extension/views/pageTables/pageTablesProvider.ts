// The Page Tables view: reads only what is open and only while the view is visible, caches per
// stop, marks entries changed since the previous stop, and reveals the focus address's walk. At a
// stop it reads every open table (expandedTables.ts) in one `vmem/tables` request and, when it
// can, redraws only the tables whose rows changed (redrawTables); otherwise it redraws the whole
// tree, the same request answering the workbench's getChildren calls level after level. A table
// opened later is read on its own (`vmem/tableEntries`). What each row says is decided in
// ptModel.ts.
import * as vscode from 'vscode';
import type { TableEntriesArgs, TablePayloadWire, TableRootWire, VmStatisticsWire } from '../../../debugAdapter/viewsProtocol';
import type { StopState, VmemSessions } from '../../session';
import { VmemRequestError, isRoutineFailure } from '../../session';
import { messageOf } from '../../session/requestError';
import { SessionTree } from '../sessionTree';
import { StopHistory } from '../stopHistory';
import { toTreeItem, tooltipOf } from '../treeItem';
import { entryNodes, entryTooltip, groupChildren, kindNodes, presentValues, rowOf, sameRows, tableKey, vmNodes } from './ptModel';
import type { EntryNode, PtNode, RootNode, TableRef } from './ptModel';
import { visibleSteps, walkPaths } from './walkPath';
import { ExpandedTables } from './expandedTables';

export const SHOW_NOT_PRESENT_CONTEXT = 'vmem.pageTables.showNotPresent';

/** How a stop's tables were checked against what the view shows (redrawTables). */
export interface TablesChecked {
  stopCount: number;
  /** The nodes redrawn (the open tables below them too); empty: nothing changed. */
  redrawn: string[];
  /** The nodes whose children the view will ask for (each an open table): the redrawn ones and the open tables below them. */
  expect: string[];
}

interface StopData {
  /** Which stop (and selection) these answers belong to. */
  state: StopState;
  vms?: Promise<VmStatisticsWire[]>;
  roots?: Promise<TableRootWire[]>;
  /** The VM list and roots once read (what the next stop compares its own with). */
  vmsRead?: VmStatisticsWire[];
  rootsRead?: TableRootWire[];
  /** The nodes above the tables, built once per stop and selection (the same objects at every call). */
  upper: Map<string, Promise<PtNode[]>>;
  tables: Map<string, Promise<PtNode[]>>;
  /** The open tables read ahead at this stop (one vmem/tables request), by node id and table. */
  ahead: Map<string, Promise<TablePayloadWire>>;
  /** The read-ahead was made (once per stop and per not-present setting). */
  readAhead?: boolean;
}

/** The held-children key of the tree's root. */
const TREE_ROOT = '';

/** A node's children are cached by node and table: the same table under two parents needs its own ids. */
const childrenKey = (nodeId: string, table: TableRef): string => `${nodeId}|${tableKey(table)}`;

function entriesArgs(table: TableRef, includeNotPresent: boolean): TableEntriesArgs {
  return {
    vm: table.vm, kind: table.kind, address: table.address, level: table.level, base: table.base,
    paging: table.paging === 'ept' ? undefined : table.paging, vcpu: table.vcpu, includeNotPresent: includeNotPresent || undefined,
  };
}

export class PageTablesProvider extends SessionTree<PtNode> {
  private readonly history = new StopHistory<Map<number, string>>();
  private data: StopData | undefined;
  private showNotPresent = false;
  private running = false;
  private readonly expansion = new ExpandedTables();
  /** What the view holds: per node (TREE_ROOT: the tree's root), the children it was last answered — the objects VS Code keeps. */
  private readonly held = new Map<string, PtNode[]>();
  /** The same nodes by their own id. */
  private readonly heldById = new Map<string, PtNode>();
  /**
   * A node was collapsed since the whole tree was last redrawn: its children, read before, are
   * still cached by VS Code, and only a redraw passing over it makes VS Code ask them again when
   * it reopens — so the next stop redraws the whole tree.
   */
  private collapsedSinceRedraw = false;
  private readonly checkedEmitter = new vscode.EventEmitter<TablesChecked>();
  /** A stop's open tables were checked and only what changed redrawn (not fired when the whole tree is redrawn). */
  readonly onDidCheckTables = this.checkedEmitter.event;

  constructor(private readonly sessions: VmemSessions) {
    super();
    this.disposables.push(
      this.checkedEmitter,
      sessions.onDidStop((s) => this.reset(s, true)),
      sessions.onDidChangeSelection((s) => {
        if (this.data && this.data.state.vm === s.vm && this.data.state.vcpu === s.vcpu && this.data.state.stopCount === s.stopCount) {
          this.data.state = s;
          return;
        }
        this.reset(s, false);
      }),
      sessions.onDidResume(() => {
        this.running = true;
        this.stillRunning(() => this.updateMessage());
      }),
      sessions.onDidEnd(() => {
        this.data = undefined;
        this.running = false;
        this.stillRunning();
        this.history.clear();
        this.expansion.clear();
        this.held.clear();
        this.heldById.clear();
        this.refresh();
      }),
    );
  }

  /**
   * The provider as the TreeView is given it: the same answers, and what it was answered is
   * remembered (a redraw from the table roots must name the very node objects the view holds).
   */
  forView(): vscode.TreeDataProvider<PtNode> {
    return {
      onDidChangeTreeData: this.onDidChangeTreeData,
      getTreeItem: (node) => this.getTreeItem(node),
      resolveTreeItem: (item, node) => this.resolveTreeItem(item, node),
      getParent: (node) => this.getParent(node),
      getChildren: async (node) => {
        const data = this.data;
        const children = await this.getChildren(node);
        // An answer from an earlier stop that comes late is not what the view holds now.
        if (this.data === data) {
          this.held.set(node?.id ?? TREE_ROOT, children);
          for (const c of children) this.heldById.set(c.id, c);
        }
        return children;
      },
    };
  }

  override attach(view: vscode.TreeView<PtNode>): void {
    super.attach(view);
    this.disposables.push(
      view.onDidExpandElement((e) => this.expansion.expanded(e.element)),
      view.onDidCollapseElement((e) => {
        this.expansion.collapsed(e.element);
        this.collapsedSinceRedraw = true;
      }),
    );
    this.updateMessage();
  }

  get notPresentShown(): boolean {
    return this.showNotPresent;
  }

  setShowNotPresent(on: boolean): void {
    void vscode.commands.executeCommand('setContext', SHOW_NOT_PRESENT_CONTEXT, on);
    if (on === this.showNotPresent) return;
    this.showNotPresent = on;
    if (this.data) {
      this.data.tables.clear();
      this.data.ahead.clear();
      this.data.readAhead = false;
    }
    this.refresh();
  }

  /** A new stop (everything re-read) or another vCPU picked (the same stop's tables stay valid for the history). */
  private reset(state: StopState, newStop: boolean): void {
    this.running = false;
    this.stillRunning();
    if (newStop || !this.data || this.data.state.stopCount !== state.stopCount || this.data.state.session !== state.session) {
      if (this.data && this.data.state.session !== state.session) {
        this.history.clear();
        this.expansion.clear();
        this.held.clear();
        this.heldById.clear();
      }
      const previous = this.data;
      this.data = { state, tables: new Map(), ahead: new Map(), upper: new Map() };
      const roots = newStop && previous ? this.openRootsHeld(previous, state) : undefined;
      if (roots) {
        this.redrawTables(this.data, previous!, roots);
        return;
      }
    } else {
      // Same stop, other vCPU: the VM list and roots stay, the guest root may change.
      this.data.state = state;
    }
    this.refresh();
  }

  /**
   * Whether a stop can redraw only what changed (redrawTables): the same session and selection
   * as the previous stop, the view visible and owing no redraw, no node collapsed since the last
   * whole redraw, and every table root the view holds open (and everything above it) — so that
   * every table the view shows is an open table, read and compared. Those roots, or undefined:
   * redraw the whole tree.
   */
  private openRootsHeld(previous: StopData, state: StopState): RootNode[] | undefined {
    if (this.redrawOwed || !this.view?.visible || this.running || this.collapsedSinceRedraw) return undefined;
    const was = previous.state;
    if (was.session !== state.session || was.vm !== state.vm || was.vcpu !== state.vcpu || !previous.vmsRead || !previous.rootsRead) return undefined;
    const vms = this.held.get(TREE_ROOT);
    if (!vms || vms.length === 0) return undefined;
    const roots: RootNode[] = [];
    const openRoots = (nodes: PtNode[] | undefined): boolean => {
      if (!nodes) return false;
      for (const n of nodes) {
        if (n.type === 'root') {
          if (!this.expansion.isShowing(n)) return false;
          roots.push(n);
        } else if (n.type === 'group') {
          if (!this.expansion.isShowing(n) || !openRoots(this.held.get(n.id) ?? [])) return false;
        } else if (n.type !== 'notice') return false;
      }
      return true;
    };
    for (const vm of vms) {
      if (vm.type !== 'vm' || !this.expansion.isShowing(vm) || !openRoots(this.held.get(vm.id))) return undefined;
    }
    return roots.length > 0 ? roots : undefined;
  }

  /**
   * Redraws what changed since the previous stop and nothing else: every open table is read (one
   * vmem/tables request); a table whose rows differ from those the view holds (a value, a
   * changed mark, a child table) has its node redrawn, with whatever is open below it; a table
   * whose rows are the same is left as it is (its rows say the same). The whole tree is redrawn
   * if the VM list or the roots changed since `previous`, or anything does not add up.
   */
  private redrawTables(data: StopData, previous: StopData, roots: RootNode[]): void {
    this.willRedraw();
    this.updateMessage();
    const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
    const shape = (vms: VmStatisticsWire[]): unknown => vms.map((v) => [v.vm, v.name, v.mode]);
    const wanted = this.expansion.tables();
    const changed = async (): Promise<PtNode[] | undefined> => {
      const [vms, rootList] = await Promise.all([this.vmListOf(data), this.rootsOf(data)]);
      if (!same(shape(vms), shape(previous.vmsRead!)) || !same(rootList, previous.rootsRead)) return undefined;
      const redraw: PtNode[] = [];
      for (const w of wanted) {
        const node = this.heldById.get(w.nodeId);
        if (!node || (node.type !== 'root' && node.type !== 'entry')) return undefined;
        const table = node.type === 'root' ? node.table : node.child;
        if (!table || tableKey(table) !== tableKey(w.table)) return undefined;
        const rows = await this.tableChildren(data, node);
        if (!sameRows(this.held.get(node.id), rows)) redraw.push(node);
      }
      // Every held root must be among the open tables read (it is: openRootsHeld), or the check proves nothing.
      return roots.every((r) => wanted.some((w) => w.nodeId === r.id)) ? redraw : undefined;
    };
    void changed().then(
      (redraw) => {
        if (this.data !== data) return;
        if (!redraw) {
          this.refresh();
          return;
        }
        if (redraw.length > 0) this.refreshNodes(redraw);
        const ids = redraw.map((n) => n.id);
        const expect = wanted.map((w) => w.nodeId).filter((id) => ids.some((r) => id === r || id.startsWith(`${r}/`)));
        this.checkedEmitter.fire({ stopCount: data.state.stopCount, redrawn: ids, expect });
      },
      () => {
        if (this.data === data) this.refresh();
      },
    );
  }

  protected override refresh(): boolean {
    const now = super.refresh();
    if (now) this.collapsedSinceRedraw = false;
    // After the redraw's data change (see sessionTree.ts on VS Code's debounce).
    this.updateMessage();
    return now;
  }

  /** A redraw is about to ask for the VM list, the roots and every open table: ask for them all now, in parallel. */
  protected override willRedraw(): void {
    const data = this.data;
    if (!data || this.running || data.readAhead) return;
    data.readAhead = true;
    void this.vmNodesOf(data).catch(() => undefined);
    void this.rootsOf(data).catch(() => undefined);
    const wanted = this.expansion.tables().filter((w) => !data.tables.has(childrenKey(w.nodeId, w.table)));
    if (wanted.length === 0) return;
    const batch = this.sessions.request('vmem/tables', { tables: wanted.map((w) => entriesArgs(w.table, this.showNotPresent)) });
    wanted.forEach((w, i) => {
      const payload = batch.then((b) => {
        const r = b.tables[i];
        if (!r) throw new VmemRequestError('adapter', 'vmem/tables: no answer for a table');
        if (!r.ok) throw new VmemRequestError('adapter', `vmem/tableEntries: ${r.error}`);
        return r.table;
      });
      payload.catch(() => undefined); // read by tableChildren, or never (the node was not asked for)
      data.ahead.set(childrenKey(w.nodeId, w.table), payload);
    });
  }

  private updateMessage(): void {
    this.setMessage(this.running ? 'The guest is running: the tables shown are from the last stop.' : undefined);
  }

  getTreeItem(node: PtNode): vscode.TreeItem {
    // An entry's tooltip (its bits decoded) is resolved on hover: a 512-entry table's rows are a third the size without.
    return toTreeItem(rowOf(node, false));
  }

  resolveTreeItem(item: vscode.TreeItem, node: PtNode): vscode.TreeItem {
    if (node.type === 'entry' && item.tooltip === undefined) item.tooltip = tooltipOf(entryTooltip(node));
    return item;
  }

  getParent(node: PtNode): PtNode | undefined {
    return node.parent;
  }

  async getChildren(node?: PtNode): Promise<PtNode[]> {
    const children = await this.childrenOf(node);
    // An open node built afresh expands to the table it shows now (read ahead at the next stop).
    for (const c of children) this.expansion.rebuilt(c);
    return children;
  }

  private async childrenOf(node?: PtNode): Promise<PtNode[]> {
    const data = this.data;
    if (!data) return [];
    try {
      if (!node) return await this.vmNodesOf(data);
      switch (node.type) {
        case 'vm':
          return await this.upperOf(data, node.id, async () => kindNodes(node, await this.rootsOf(data), { vm: data.state.vm, vcpu: data.state.vcpu }));
        case 'group':
          return await this.upperOf(data, node.id, async () => groupChildren(node));
        case 'root':
        case 'entry':
          return await this.tableChildren(data, node);
        case 'notice':
          return [];
      }
    } catch (e) {
      if (isRoutineFailure(e)) return [];
      return [{ type: 'notice', id: `${node?.id ?? 'pt'}/error`, parent: node, message: messageOf(e), error: true }];
    }
  }

  private vmListOf(data: StopData): Promise<VmStatisticsWire[]> {
    // The VM list (names and modes) as the stop's vmem/statistics event gave it, else asked.
    const told = this.sessions.statistics;
    data.vms ??= (told ? Promise.resolve(told.vms) : this.sessions.shared('vmem/statistics', {}).then((s) => s.vms)).then((vms) => (data.vmsRead = vms));
    return data.vms;
  }

  private vmNodesOf(data: StopData): Promise<PtNode[]> {
    return this.upperOf(data, TREE_ROOT, () => this.vmListOf(data).then(vmNodes));
  }

  private rootsOf(data: StopData): Promise<TableRootWire[]> {
    // Shared with the status bar, which reads the roots at each stop too.
    data.roots ??= this.sessions.shared('vmem/tableRoots', {}).then((r) => (data.rootsRead = r));
    return data.roots;
  }

  /** The children of a node above the tables, built once per stop and selection. */
  private upperOf(data: StopData, key: string, build: () => Promise<PtNode[]>): Promise<PtNode[]> {
    const k = `${key}|${data.state.vm}/${data.state.vcpu}`;
    let p = data.upper.get(k);
    if (!p) {
      p = build();
      data.upper.set(k, p);
      p.catch(() => data.upper.delete(k));
    }
    return p;
  }

  private tableChildren(data: StopData, node: RootNode | EntryNode): Promise<PtNode[]> {
    const table = node.type === 'root' ? node.table : node.child;
    if (!table) return Promise.resolve([]);
    const key = childrenKey(node.id, table);
    let p = data.tables.get(key);
    if (!p) {
      if (this.running) return Promise.resolve([{ type: 'notice', id: `${node.id}/running`, parent: node, message: 'the guest is running: pause to read this table', error: false }]);
      p = this.fetchTable(data, node, table);
      data.tables.set(key, p);
      p.catch(() => data.tables.delete(key));
    }
    return p;
  }

  private async fetchTable(data: StopData, node: RootNode | EntryNode, table: TableRef): Promise<PtNode[]> {
    const ahead = data.ahead.get(childrenKey(node.id, table));
    data.ahead.delete(childrenKey(node.id, table));
    const ask = (): Promise<TablePayloadWire> => this.sessions.request('vmem/tableEntries', entriesArgs(table, this.showNotPresent));
    // Read ahead if it was; an adapter without vmem/tables (or a failed batch) is asked for this table alone.
    const payload: TablePayloadWire = ahead ? await ahead.catch((e: unknown) => {
      if (e instanceof VmemRequestError && e.failure !== 'adapter') throw e;
      return ask();
    }) : await ask();
    const key = tableKey(table);
    const stop = data.state.stopCount;
    const nodes = entryNodes(node, table, payload, this.history.previous(key, stop), this.showNotPresent);
    this.history.record(key, stop, presentValues(payload));
    return nodes;
  }

  /** Expands the walk of the stop's focus address in every kind it has, selecting the guest leaf. */
  async revealCurrentWalk(): Promise<void> {
    const data = this.data;
    const state = this.sessions.state;
    if (!data || !state || !this.view) {
      void vscode.window.showInformationMessage('VMem: the guest is not stopped: nothing to reveal.');
      return;
    }
    if (!state.focusAddress) {
      void vscode.window.showInformationMessage(`VMem: vm${state.vm}/vcpu${state.vcpu} has translated no address yet at this stop.`);
      return;
    }
    let walk;
    try {
      walk = await this.sessions.request('vmem/walk', { vm: state.vm, vcpu: state.vcpu, gva: state.focusAddress });
    } catch (e) {
      if (!isRoutineFailure(e)) void vscode.window.showErrorMessage(`VMem: ${messageOf(e)}`);
      return;
    }
    const vmNode = (await this.getChildren()).find((n) => n.type === 'vm' && n.vm === state.vm);
    if (!vmNode) return;
    const kinds = await this.getChildren(vmNode);
    const paths = walkPaths(walk).sort((a, b) => Number(a.kind === 'guest') - Number(b.kind === 'guest'));
    let revealed = 0;
    for (const path of paths) {
      const steps = visibleSteps(path, this.showNotPresent);
      if (steps.length === 0) continue;
      let table: PtNode | undefined = kinds.find((k) => k.type === 'root' && k.root.kind === path.kind && k.root.address === steps[0].tableAddress);
      if (!table) {
        const group = kinds.find((k) => k.type === 'group' && k.kind === path.kind);
        if (group) table = (await this.getChildren(group)).find((r) => r.type === 'root' && r.root.address === steps[0].tableAddress);
      }
      let leaf: PtNode | undefined;
      for (const step of steps) {
        if (!table) break;
        const entry: PtNode | undefined = (await this.getChildren(table)).find((n) => n.type === 'entry' && n.entry.index === step.index && n.table.address === step.tableAddress);
        if (!entry) break;
        // reveal() opens the nodes above the leaf: they are read ahead at the next stops.
        this.expansion.expanded(table);
        leaf = entry;
        table = entry;
      }
      if (!leaf) continue;
      const last = path.kind === 'guest' || paths[paths.length - 1] === path;
      await this.view.reveal(leaf, { select: last, focus: last, expand: false });
      revealed++;
    }
    if (revealed === 0) void vscode.window.showInformationMessage(`VMem: no page-table entry maps ${state.focusAddress} yet.`);
  }
}
