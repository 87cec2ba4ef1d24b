// Helpers for suites that run inside the extension host (import them from any *.test.ts here).
import * as vscode from 'vscode';

/** The folder the runner opened: a throw-away copy of examples/. */
export function workspaceFolder(): vscode.WorkspaceFolder {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('no workspace folder is open: run these suites with scripts/ui/runExtensionHostTests.mjs');
  return folder;
}

export interface StoppedEvent {
  session: vscode.DebugSession;
  reason: string;
  threadId: number | undefined;
  description: string | undefined;
}

export interface StopQueue extends vscode.Disposable {
  /** The next `stopped` event of a session of this type (queued if it came already). */
  next(timeoutMs?: number): Promise<StoppedEvent>;
}

interface DapStopped {
  type: 'event';
  event: 'stopped';
  body: { reason: string; threadId?: number; description?: string };
}

function isStopped(m: unknown): m is DapStopped {
  const msg = m as { type?: unknown; event?: unknown };
  return msg.type === 'event' && msg.event === 'stopped';
}

/**
 * Watches the DAP traffic of every session of `debugType` (a tracker sees what the adapter
 * sends, inline or as a process) and queues its `stopped` events.
 */
export function stopsOf(debugType: string): StopQueue {
  const queued: StoppedEvent[] = [];
  const waiting: ((e: StoppedEvent) => void)[] = [];
  const registration = vscode.debug.registerDebugAdapterTrackerFactory(debugType, {
    createDebugAdapterTracker: (session) => ({
      onDidSendMessage: (m: unknown) => {
        if (!isStopped(m)) return;
        const e = { session, reason: m.body.reason, threadId: m.body.threadId, description: m.body.description };
        const w = waiting.shift();
        if (w) w(e);
        else queued.push(e);
      },
    }),
  });
  return {
    next(timeoutMs = 30_000) {
      const q = queued.shift();
      if (q) return Promise.resolve(q);
      return new Promise((ok, fail) => {
        const waiter = (e: StoppedEvent): void => {
          clearTimeout(timer);
          ok(e);
        };
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(waiter), 1); // a later stop must not go to a dead waiter
          fail(new Error(`no stopped event in ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.push(waiter);
      });
    },
    dispose: () => registration.dispose(),
  };
}

/** The next event of `event` that `pred` accepts; no time limit of its own (the test's bounds it). */
export function nextEvent<T>(event: vscode.Event<T>, pred: (e: T) => boolean = () => true): Promise<T> {
  return new Promise((ok) => {
    const sub = event((e) => {
      if (!pred(e)) return;
      sub.dispose();
      ok(e);
    });
  });
}

/** Polls `probe` until it returns something other than undefined. */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}
