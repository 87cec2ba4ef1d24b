// How the Address Translation and Machine Memory panels follow the session, kept in one place so
// they cannot drift apart: redraw at every stop and selection change, "running" on resume, the
// idle phase when the session ends, and drop an answer that comes back after any of those (each
// refresh draws a generation; resume and end bump it, so an older request's answer is stale).
import type * as vscode from 'vscode';
import type { StopState, VmemSessions } from '../session';
import type { PhaseMessage } from '../../webview/shared/messages';
import { idlePhase } from './stopRef';

export interface FollowerHooks {
  refresh(): void;
  /** At the session's end, before the idle phase is posted (e.g. to forget per-session answers). */
  ended?(): void;
  /** The webview panel was closed. */
  closed(): void;
}

export interface Refresh {
  st: StopState;
  /** False once a newer refresh, a resume or the session's end came, or the follower was disposed. */
  current(): boolean;
}

export class StopFollower implements vscode.Disposable {
  private generation = 0;
  private disposed = false;
  private readonly subscriptions: vscode.Disposable[];

  constructor(panel: vscode.WebviewPanel, private readonly sessions: VmemSessions, private readonly post: (m: PhaseMessage) => void, hooks: FollowerHooks) {
    this.subscriptions = [
      sessions.onDidStop(() => hooks.refresh()),
      sessions.onDidChangeSelection(() => hooks.refresh()),
      sessions.onDidResume(() => {
        this.generation++;
        post({ type: 'phase', phase: 'running' });
      }),
      sessions.onDidEnd(() => {
        this.generation++;
        hooks.ended?.();
        post(idlePhase(sessions));
      }),
      panel.onDidDispose(() => hooks.closed()),
    ];
  }

  /** Starts a refresh: undefined when disposed, or when nothing is stopped (the idle phase is posted then). */
  begin(): Refresh | undefined {
    if (this.disposed) return undefined;
    const generation = ++this.generation;
    const st = this.sessions.state;
    if (!st) {
      this.post(idlePhase(this.sessions));
      return undefined;
    }
    return { st, current: () => generation === this.generation && !this.disposed };
  }

  dispose(): void {
    this.disposed = true;
    this.subscriptions.forEach((d) => d.dispose());
  }
}
