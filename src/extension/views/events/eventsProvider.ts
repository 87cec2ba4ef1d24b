// The Events view: polls `vmem/events` for what is new — at each stop, and while running on the
// (≤ 2/s) statistics events — only while the view is visible; one request in flight at a time.
import * as vscode from 'vscode';
import type { VmemSessions } from '../../session';
import { isRoutineFailure } from '../../session';
import { messageOf } from '../../session/requestError';
import { SessionTree } from '../sessionTree';
import { toTreeItem } from '../treeItem';
import { EventStore, eventRow, eventRows, groupRow } from './eventsModel';
import type { EventNode } from './eventsModel';

export class EventsProvider extends SessionTree<EventNode> {
  private readonly store = new EventStore();
  private session: vscode.DebugSession | undefined;
  private inFlight = false;
  /** Another poll was asked for while one was in flight. */
  private again = false;

  constructor(private readonly sessions: VmemSessions) {
    super();
    this.disposables.push(
      sessions.onDidStop(() => this.poll()),
      // While running (a stop's own statistics event comes as the stop is gathered: onDidStop polls then).
      sessions.onDidReceiveStatistics(() => {
        if (this.sessions.running) this.poll();
      }),
      sessions.onDidEnd(() => {
        this.store.clear();
        this.session = undefined;
        this.changeEmitter.fire(undefined);
        this.describe();
      }),
    );
  }

  /** Polling skips a hidden view: whatever came meanwhile is fetched when it shows. */
  protected override shown(): void {
    this.poll();
  }

  /** Fetches what is new, if the view is visible and a vmem session exists. */
  poll(): void {
    if (this.view && !this.view.visible) return;
    const session = this.sessions.session;
    if (!session) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    if (session !== this.session) {
      this.store.clear();
      this.session = session;
    }
    this.inFlight = true;
    this.sessions
      .request('vmem/events', { after: this.store.after, limit: this.store.capacity })
      .then((p) => {
        if (this.session !== session) return;
        if (this.store.merge(p)) this.changeEmitter.fire(undefined);
        this.describe();
      })
      .catch((e: unknown) => {
        if (!isRoutineFailure(e)) this.setMessage(`VMem: ${messageOf(e)}`);
      })
      .finally(() => {
        this.inFlight = false;
        if (this.again) {
          this.again = false;
          this.poll();
        }
      });
  }

  private describe(): void {
    if (!this.view) return;
    this.view.description = this.session ? `${this.store.total.toLocaleString('en-US')} logged · latest ${this.store.size.toLocaleString('en-US')} of ${this.store.capacity.toLocaleString('en-US')} kept` : undefined;
    this.setMessage(this.session && this.store.total === 0 ? 'No engine events yet.' : undefined);
  }

  private vmName(vm: number): string {
    return this.sessions.statistics?.vms.find((v) => v.vm === vm)?.name ?? `vm${vm}`;
  }

  getTreeItem(node: EventNode): vscode.TreeItem {
    return toTreeItem(node.type === 'group' ? groupRow(node) : eventRow(node, (vm) => this.vmName(vm)));
  }

  getChildren(node?: EventNode): EventNode[] {
    if (!node) return this.store.groups();
    return node.type === 'group' ? eventRows(node) : [];
  }
}
