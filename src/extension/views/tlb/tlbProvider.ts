// The TLB view: the selected vCPU's entries (`vmem/tlb`, one request shared with the Address
// Translation panel), read once per stop or selection while the view is visible — asked as the
// redraw starts, not when the workbench gets to ask for the rows; the counters in the view's
// description.
import * as vscode from 'vscode';
import type { TlbWire } from '../../../debugAdapter/viewsProtocol';
import type { StopState, VmemSessions } from '../../session';
import { isRoutineFailure } from '../../session';
import { messageOf } from '../../session/requestError';
import { SessionTree } from '../sessionTree';
import { StopHistory } from '../stopHistory';
import { toTreeItem } from '../treeItem';
import { countersText, entryKey, entryRow, groupRow, tlbGroups, tlbRows } from './tlbModel';
import type { TlbGroup, TlbNode } from './tlbModel';

interface Snapshot {
  state: StopState;
  tlb: Promise<{ tlb: TlbWire; groups: TlbGroup[]; previous: Set<string> | undefined }>;
}

export class TlbProvider extends SessionTree<TlbNode> {
  private readonly history = new StopHistory<Set<string>>();
  private state: StopState | undefined;
  private snapshot: Snapshot | undefined;
  private running = false;

  constructor(private readonly sessions: VmemSessions) {
    super();
    this.disposables.push(
      sessions.onDidStop((s) => this.show(s)),
      sessions.onDidChangeSelection((s) => {
        if (this.state && this.state.vm === s.vm && this.state.vcpu === s.vcpu && this.state.stopCount === s.stopCount) return;
        this.show(s);
      }),
      sessions.onDidResume(() => {
        this.running = true;
        this.stillRunning(() => this.describe());
      }),
      sessions.onDidEnd(() => {
        this.state = undefined;
        this.snapshot = undefined;
        this.running = false;
        this.stillRunning();
        this.history.clear();
        this.refresh();
      }),
    );
  }

  private show(s: StopState): void {
    if (this.state && this.state.session !== s.session) this.history.clear();
    this.state = s;
    this.snapshot = undefined;
    this.running = false;
    this.stillRunning();
    this.refresh();
  }

  /** The redraw will ask for the rows: ask the adapter now. */
  protected override willRedraw(): void {
    if (this.state && !this.running) this.load(this.state).tlb.catch(() => undefined);
  }

  protected override refresh(): boolean {
    // With no session the tree is empty and getChildren never describes it: clear the texts here.
    if (!super.refresh()) return false;
    if (!this.state) this.describe();
    return true;
  }

  private describe(tlb?: TlbWire): void {
    if (!this.view) return;
    const s = this.state;
    if (!s) {
      this.view.description = undefined;
      this.setMessage(undefined);
      return;
    }
    if (tlb) this.view.description = `vm${s.vm}/vcpu${s.vcpu} · ${countersText(tlb)}`;
    this.setMessage(this.running ? 'The guest is running: the entries shown are from the last stop.'
      : tlb && tlb.entries.length === 0 ? (tlb.capacity === undefined ? `vm${s.vm}/vcpu${s.vcpu} has no hardware TLB to show (native paging off or no MMU).` : 'The TLB is empty.') : undefined);
  }

  private load(s: StopState): Snapshot {
    if (this.snapshot && this.snapshot.state === s) return this.snapshot;
    const tlb = this.sessions.shared('vmem/tlb', { vm: s.vm, vcpu: s.vcpu }).then((t) => {
      const key = `${s.vm}/${s.vcpu}`;
      const previous = this.history.previous(key, s.stopCount);
      this.history.record(key, s.stopCount, new Set(t.entries.map(entryKey)));
      this.describe(t);
      return { tlb: t, groups: tlbGroups(t), previous };
    });
    this.snapshot = { state: s, tlb };
    tlb.catch(() => {
      if (this.snapshot?.tlb === tlb) this.snapshot = undefined;
    });
    return this.snapshot;
  }

  getTreeItem(node: TlbNode): vscode.TreeItem {
    return toTreeItem(node.type === 'group' ? groupRow(node) : entryRow(node));
  }

  async getChildren(node?: TlbNode): Promise<TlbNode[]> {
    const s = this.state;
    if (!s) return [];
    if (node?.type === 'entry') return [];
    if (this.running && !this.snapshot) return [];
    try {
      const { groups, previous } = await this.load(s).tlb;
      if (!node) return groups;
      return tlbRows(node, previous);
    } catch (e) {
      if (!isRoutineFailure(e)) this.setMessage(`VMem: ${messageOf(e)}`);
      return [];
    }
  }
}
