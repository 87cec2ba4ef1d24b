// The Event Timeline panel's host: polls the adapter's event log for what is new (`after` the
// last seq seen) at every stop and, while the panel is visible, with the running statistics;
// records each stop's instruction count; sends the webview only what it does not have yet.
import * as vscode from 'vscode';
import type { VmemSessions } from '../session';
import { hasType, isMemoryReference, parseGva } from '../../webview/shared/messages';
import type { StopMark, TimelineHostMessage, TimelineIntent } from '../../webview/shared/messages';
import type { LoggedEventWire } from '../../debugAdapter/viewsProtocol';
import { PanelChannel, createPanel, preparePanel } from './panelHost';
import type { PanelSpec } from './panelHost';
import { failureMessage, idlePhase, stopRef } from './stopRef';
import { openMemoryReference } from './memoryDocument';
import { EventAccumulator } from './eventAccumulator';

export const TIMELINE_SPEC: PanelSpec = {
  viewType: 'vmem.eventTimeline',
  title: 'Event Timeline',
  script: 'timeline',
  styles: ['timeline.css'],
  icon: 'webview/timeline.svg',
};

function isIntent(m: unknown): m is TimelineIntent {
  if (!hasType<TimelineIntent>(m, 'ready', 'showTranslation', 'openMemory')) return false;
  if (m.type === 'showTranslation') return typeof m.gva === 'string' && parseGva(m.gva) !== undefined;
  if (m.type === 'openMemory') return isMemoryReference(m.reference) && typeof m.label === 'string';
  return true;
}

export class TimelinePanel implements vscode.Disposable {
  private readonly channel: PanelChannel<TimelineHostMessage, TimelineIntent>;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly log = new EventAccumulator();
  private stops: StopMark[] = [];
  private sessionId: string | undefined;
  private polling = false;
  private disposed = false;

  static create(context: vscode.ExtensionContext, sessions: VmemSessions, onDispose: () => void): TimelinePanel {
    return new TimelinePanel(createPanel(context, TIMELINE_SPEC, vscode.ViewColumn.Beside), sessions, onDispose);
  }

  static restore(context: vscode.ExtensionContext, panel: vscode.WebviewPanel, sessions: VmemSessions, onDispose: () => void): TimelinePanel {
    preparePanel(context, panel, TIMELINE_SPEC);
    return new TimelinePanel(panel, sessions, onDispose);
  }

  private constructor(readonly panel: vscode.WebviewPanel, private readonly sessions: VmemSessions, onDispose: () => void) {
    this.channel = new PanelChannel(panel, isIntent, (i) => this.onIntent(i));
    this.disposables.push(
      this.channel,
      sessions.onDidStop(async (st) => {
        this.adopt(st.session.id);
        await this.markStop();
        void this.poll(false);
      }),
      sessions.onDidResume(() => this.channel.post({ type: 'phase', phase: 'running' })),
      // While running: only what a visible panel shows, at the statistics' pace (≤ 2/s). Not at
      // a stop (its statistics event comes as the stop is gathered): onDidStop polls then.
      sessions.onDidReceiveStatistics(() => {
        if (this.panel.visible && this.sessions.running) void this.poll(false);
      }),
      sessions.onDidEnd(() => this.channel.post(idlePhase(sessions))),
      panel.onDidDispose(() => {
        this.dispose();
        onDispose();
      }),
    );
  }

  /** A different session: start the log and the stops over. */
  private adopt(sessionId: string): void {
    if (this.sessionId === sessionId) return;
    this.sessionId = sessionId;
    this.log.clear();
    this.stops = [];
  }

  private onIntent(i: TimelineIntent): void {
    if (i.type === 'ready') {
      const session = this.sessions.session;
      if (session) this.adopt(session.id);
      void (async () => {
        if (this.sessions.state && !this.stops.some((s) => s.stopCount === this.sessions.state?.stopCount)) await this.markStop();
        await this.poll(true);
      })();
    } else if (i.type === 'showTranslation') void vscode.commands.executeCommand('vmem.showAddressTranslation', i.gva);
    else void openMemoryReference(this.sessions, i.reference, i.label);
  }

  /** Records where the current stop is on its VM's instruction axis (from the stop's statistics event, else asked). */
  private async markStop(): Promise<void> {
    const st = this.sessions.state;
    if (!st) return;
    try {
      const stats = this.sessions.statistics ?? await this.sessions.shared('vmem/statistics', {});
      const icount = stats.vms.find((v) => v.vm === st.vm)?.instructions ?? stats.instructions;
      if (!this.stops.some((s) => s.stopCount === st.stopCount)) {
        this.stops.push({ stopCount: st.stopCount, vm: st.vm, icount, reason: st.reason, description: st.description });
      }
    } catch {
      // A stop we cannot place is left unmarked; the events still come.
    }
  }

  /** Fetches the events after the last one held; `resend`: the webview starts empty (new or reloaded). */
  private async poll(resend: boolean): Promise<void> {
    if (this.disposed) return;
    if (!this.sessions.session) {
      this.channel.post(idlePhase(this.sessions));
      return;
    }
    if (this.polling && !resend) return;
    this.polling = true;
    try {
      const body = await this.sessions.request('vmem/events', { after: this.log.lastSeq, limit: 100_000 });
      const { fresh, reset } = this.log.add(body);
      const st = this.sessions.state;
      const vmNames: Record<number, string> = {};
      for (const v of this.sessions.statistics?.vms ?? []) vmNames[v.vm] = v.name;
      const events: LoggedEventWire[] = resend || reset ? this.log.all() : fresh;
      this.channel.post({
        type: 'events', reset: resend || reset, events, total: body.total, capacity: body.capacity, counts: body.counts,
        stops: this.stops, stop: st ? stopRef(this.sessions, st) : undefined, vmNames,
      });
      if (!st && resend) this.channel.post({ type: 'phase', phase: 'running' });
    } catch (e) {
      const message = failureMessage(e);
      if (message !== undefined) this.channel.post({ type: 'phase', phase: 'error', message });
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
