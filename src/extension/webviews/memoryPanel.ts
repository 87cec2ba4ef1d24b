// The Machine Memory panel's host: answers the webview's viewport (mpns) and guest window (ppns)
// with `vmem/frameMap` for those ranges only, again at every stop; forwards "open this frame" to
// the memory view.
import * as vscode from 'vscode';
import type { VmemSessions } from '../session';
import { hasType, isMemoryReference } from '../../webview/shared/messages';
import type { MemoryHostMessage, MemoryIntent } from '../../webview/shared/messages';
import { PanelChannel, createPanel, preparePanel } from './panelHost';
import type { PanelSpec } from './panelHost';
import { failureMessage, stopRef } from './stopRef';
import { StopFollower } from './stopFollower';
import { openMemoryReference } from './memoryDocument';

export const MEMORY_SPEC: PanelSpec = {
  viewType: 'vmem.machineMemory',
  title: 'Machine Memory',
  script: 'memory',
  styles: ['memory.css'],
  icon: 'webview/memory.svg',
};

/** Before the webview has measured itself: the first screenful of a typical panel. */
const FIRST_RANGE = { fromMpn: 0, toMpn: 8192 };
/** The guest strips' first window, until the webview says what fits. */
const FIRST_PAGES = { fromPpn: 0, toPpn: 1024 };

const isRange = (from: unknown, to: unknown): boolean => Number.isSafeInteger(from) && Number.isSafeInteger(to) && (from as number) >= 0 && (to as number) >= (from as number);

function isIntent(m: unknown): m is MemoryIntent {
  if (!hasType<MemoryIntent>(m, 'ready', 'viewport', 'guestWindow', 'openMemory')) return false;
  if (m.type === 'viewport') return isRange(m.fromMpn, m.toMpn);
  if (m.type === 'guestWindow') return isRange(m.fromPpn, m.toPpn);
  if (m.type === 'openMemory') return isMemoryReference(m.reference) && typeof m.label === 'string';
  return true;
}

export class MemoryPanel implements vscode.Disposable {
  private range = FIRST_RANGE;
  private pages = FIRST_PAGES;
  private readonly channel: PanelChannel<MemoryHostMessage, MemoryIntent>;
  private readonly follower: StopFollower;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  static create(context: vscode.ExtensionContext, sessions: VmemSessions, onDispose: () => void): MemoryPanel {
    return new MemoryPanel(createPanel(context, MEMORY_SPEC, vscode.ViewColumn.Beside), sessions, onDispose);
  }

  static restore(context: vscode.ExtensionContext, panel: vscode.WebviewPanel, sessions: VmemSessions, onDispose: () => void): MemoryPanel {
    // The webview keeps its own state (colouring, scroll); it asks for its viewport once drawn.
    preparePanel(context, panel, MEMORY_SPEC);
    return new MemoryPanel(panel, sessions, onDispose);
  }

  private constructor(readonly panel: vscode.WebviewPanel, private readonly sessions: VmemSessions, onDispose: () => void) {
    this.channel = new PanelChannel(panel, isIntent, (i) => this.onIntent(i));
    this.follower = new StopFollower(panel, sessions, (m) => this.channel.post(m), {
      refresh: () => void this.refresh(),
      closed: () => {
        this.dispose();
        onDispose();
      },
    });
    this.disposables.push(this.channel, this.follower);
  }

  private onIntent(i: MemoryIntent): void {
    if (i.type === 'ready') void this.refresh();
    else if (i.type === 'viewport') {
      this.range = { fromMpn: i.fromMpn, toMpn: i.toMpn };
      void this.refresh();
    } else if (i.type === 'guestWindow') {
      this.pages = { fromPpn: i.fromPpn, toPpn: i.toPpn };
      void this.refresh();
    } else void openMemoryReference(this.sessions, i.reference, i.label);
  }

  async refresh(): Promise<void> {
    const refresh = this.follower.begin();
    if (!refresh) return;
    const { fromMpn, toMpn } = this.range;
    const { fromPpn, toPpn } = this.pages;
    try {
      const map = await this.sessions.request('vmem/frameMap', { fromMpn, toMpn, fromPpn, toPpn });
      if (!refresh.current()) return;
      this.channel.post({ type: 'frameMap', stop: stopRef(this.sessions, refresh.st), fromMpn, toMpn: Math.min(toMpn, map.total), fromPpn, toPpn, map });
    } catch (e) {
      if (!refresh.current()) return;
      const message = failureMessage(e);
      if (message !== undefined) this.channel.post({ type: 'phase', phase: 'error', message });
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposables.forEach((d) => d.dispose());
  }
}
