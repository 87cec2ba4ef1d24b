// The Memory Overcommit panel's host: asks `vmem/overcommit` at every stop and, while the machine
// runs and the panel is visible, with the throttled statistics event (≤ 2/s, as the Event
// Timeline does), and sends the webview the scheduler's state as the adapter answered it.
import * as vscode from 'vscode';
import type { VmemSessions } from '../session';
import { hasType } from '../../webview/shared/messages';
import type { OvercommitHostMessage, OvercommitIntent } from '../../webview/shared/messages';
import { PanelChannel, createPanel, preparePanel } from './panelHost';
import type { PanelSpec } from './panelHost';
import { failureMessage, stopRef } from './stopRef';
import { StopFollower } from './stopFollower';

export const OVERCOMMIT_SPEC: PanelSpec = {
  viewType: 'vmem.memoryOvercommit',
  title: 'Memory Overcommit',
  script: 'overcommit',
  styles: ['overcommit.css'],
  icon: 'webview/overcommit.svg',
};

function isIntent(m: unknown): m is OvercommitIntent {
  return hasType<OvercommitIntent>(m, 'ready');
}

export class OvercommitPanel implements vscode.Disposable {
  private readonly channel: PanelChannel<OvercommitHostMessage, OvercommitIntent>;
  private readonly follower: StopFollower;
  private readonly disposables: vscode.Disposable[] = [];
  /** A live (running) request is out: the next statistics tick does not queue another. */
  private polling = false;
  private disposed = false;

  static create(context: vscode.ExtensionContext, sessions: VmemSessions, onDispose: () => void): OvercommitPanel {
    return new OvercommitPanel(createPanel(context, OVERCOMMIT_SPEC, vscode.ViewColumn.Beside), sessions, onDispose);
  }

  static restore(context: vscode.ExtensionContext, panel: vscode.WebviewPanel, sessions: VmemSessions, onDispose: () => void): OvercommitPanel {
    // The webview keeps its hidden series itself; it asks for data once drawn (`ready`).
    preparePanel(context, panel, OVERCOMMIT_SPEC);
    return new OvercommitPanel(panel, sessions, onDispose);
  }

  private constructor(readonly panel: vscode.WebviewPanel, private readonly sessions: VmemSessions, onDispose: () => void) {
    this.channel = new PanelChannel(panel, isIntent, () => void this.refresh());
    this.follower = new StopFollower(panel, sessions, (m) => this.channel.post(m), {
      refresh: () => void this.refresh(),
      closed: () => {
        this.dispose();
        onDispose();
      },
    });
    this.disposables.push(
      this.channel,
      this.follower,
      sessions.onDidReceiveStatistics(() => {
        if (this.panel.visible && this.sessions.session && !this.sessions.state) void this.live();
      }),
    );
  }

  /** At a stop (or when the webview is ready): the scheduler as of this stop. */
  async refresh(): Promise<void> {
    const refresh = this.follower.begin();
    if (!refresh) return;
    try {
      const body = await this.sessions.request('vmem/overcommit', {});
      if (!refresh.current()) return;
      this.channel.post({ type: 'overcommit', stop: stopRef(this.sessions, refresh.st), body });
    } catch (e) {
      if (!refresh.current()) return;
      const message = failureMessage(e);
      if (message !== undefined) this.channel.post({ type: 'phase', phase: 'error', message });
    }
  }

  /** While running: the numbers as they move; a stop or resume in between makes the answer stale (dropped). */
  private async live(): Promise<void> {
    if (this.polling || this.disposed) return;
    this.polling = true;
    try {
      const body = await this.sessions.request('vmem/overcommit', {});
      if (!this.disposed && !this.sessions.state) this.channel.post({ type: 'overcommit', body });
    } catch {
      // Routine: the session stopped, resumed or ended meanwhile; the stop's refresh redraws.
    } finally {
      this.polling = false;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposables.forEach((d) => d.dispose());
  }
}
