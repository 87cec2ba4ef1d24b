// The Page Tables view: fetches lazily (one `vmem/tableEntries` per expanded table, nothing while
// the view is hidden), caches per stop, marks entries changed since the previous stop, and
// reveals the focus address's walk. What each row says is decided in ptModel.ts.
import * as vscode from 'vscode';
import type { TablePayloadWire, TableRootWire, VmStatisticsWire } from '../../../debugAdapter/viewsProtocol';
import type { StopState, VmemSessions } from '../../session';
import { isRoutineFailure } from '../../session';
import { messageOf } from '../../session/requestError';
import { SessionTree } from '../sessionTree';
import { StopHistory } from '../stopHistory';
import { toTreeItem } from '../treeItem';
import { entryNodes, groupChildren, kindNodes, presentValues, rowOf, tableKey, vmNodes } from './ptModel';
import type { EntryNode, PtNode, RootNode, TableRef } from './ptModel';
import { visibleSteps, walkPaths } from './walkPath';

export const SHOW_NOT_PRESENT_CONTEXT = 'vmem.pageTables.showNotPresent';

interface StopData {
  /** Which stop (and selection) these answers belong to. */
  state: StopState;
  vms?: Promise<VmStatisticsWire[]>;
  roots?: Promise<TableRootWire[]>;
  tables: Map<string, Promise<PtNode[]>>;
}

export class PageTablesProvider extends SessionTree<PtNode> {
  private readonly history = new StopHistory<Map<number, string>>();
  private data: StopData | undefined;
  private showNotPresent = false;
  private running = false;

  constructor(private readonly sessions: VmemSessions) {
    super();
    this.disposables.push(
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
        this.updateMessage();
      }),
      sessions.onDidEnd(() => {
        this.data = undefined;
        this.running = false;
        this.history.clear();
        this.refresh();
      }),
    );
  }

  override attach(view: vscode.TreeView<PtNode>): void {
    super.attach(view);
    this.updateMessage();
  }

  get notPresentShown(): boolean {
    return this.showNotPresent;
  }

  setShowNotPresent(on: boolean): void {
    void vscode.commands.executeCommand('setContext', SHOW_NOT_PRESENT_CONTEXT, on);
    if (on === this.showNotPresent) return;
    this.showNotPresent = on;
    if (this.data) this.data.tables.clear();
    this.refresh();
  }

  /** A new stop (everything re-read) or another vCPU picked (the same stop's tables stay valid for the history). */
  private reset(state: StopState, newStop: boolean): void {
    this.running = false;
    if (newStop || !this.data || this.data.state.stopCount !== state.stopCount || this.data.state.session !== state.session) {
      if (this.data && this.data.state.session !== state.session) this.history.clear();
      this.data = { state, tables: new Map() };
    } else {
      // Same stop, other vCPU: the VM list and roots stay, the guest root may change.
      this.data.state = state;
    }
    this.refresh();
  }

  protected override refresh(): boolean {
    this.updateMessage();
    return super.refresh();
  }

  private updateMessage(): void {
    if (!this.view) return;
    this.view.message = this.running ? 'The guest is running: the tables shown are from the last stop.' : undefined;
  }

  getTreeItem(node: PtNode): vscode.TreeItem {
    return toTreeItem(rowOf(node));
  }

  getParent(node: PtNode): PtNode | undefined {
    return node.parent;
  }

  async getChildren(node?: PtNode): Promise<PtNode[]> {
    const data = this.data;
    if (!data) return [];
    try {
      if (!node) return await this.vmNodesOf(data);
      switch (node.type) {
        case 'vm':
          return kindNodes(node, await this.rootsOf(data), { vm: data.state.vm, vcpu: data.state.vcpu });
        case 'group':
          return groupChildren(node);
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

  private vmNodesOf(data: StopData): Promise<PtNode[]> {
    data.vms ??= this.sessions.request('vmem/statistics', {}).then((s) => s.vms);
    return data.vms.then(vmNodes);
  }

  private rootsOf(data: StopData): Promise<TableRootWire[]> {
    data.roots ??= this.sessions.request('vmem/tableRoots', {});
    return data.roots;
  }

  private tableChildren(data: StopData, node: RootNode | EntryNode): Promise<PtNode[]> {
    const table = node.type === 'root' ? node.table : node.child;
    if (!table) return Promise.resolve([]);
    // Keyed by node too: the same table under two parents needs its own ids.
    const key = `${node.id}|${tableKey(table)}`;
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
    const payload: TablePayloadWire = await this.sessions.request('vmem/tableEntries', {
      vm: table.vm, kind: table.kind, address: table.address, level: table.level, base: table.base,
      paging: table.paging === 'ept' ? undefined : table.paging, vcpu: table.vcpu, includeNotPresent: this.showNotPresent || undefined,
    });
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
