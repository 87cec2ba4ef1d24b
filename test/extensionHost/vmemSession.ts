// Driving a vmem debug session from inside the extension host through the extension's own API
// (what `activate` returns): start it, wait for the stops VmemSessions announces, end it. Shared
// by the suites that check the views against the adapter.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { VmemExtensionApi } from '../../src/extension/extension';
import type { StopState } from '../../src/extension/session';
import { nextEvent, waitFor, workspaceFolder } from './hostHelpers';

const EXTENSION_ID = 'vmem.vmem-debugger';

export type VmemApi = VmemExtensionApi & { views: NonNullable<VmemExtensionApi['views']> };

export async function vmemApi(): Promise<VmemApi> {
  const ext = vscode.extensions.getExtension<VmemExtensionApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not installed in this extension host`);
  const a = await ext.activate();
  assert.ok(a.views, 'the views registered');
  return a as VmemApi;
}

/** The next VmemSessions event of `event` matching `pred` (e.g. a.sessions.onDidStop). */
export function nextState(event: vscode.Event<StopState>, pred: (s: StopState) => boolean = () => true, what = 'stop', timeoutMs = 30_000): Promise<StopState> {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => {
      sub.dispose();
      fail(new Error(`no matching ${what} in ${timeoutMs} ms`));
    }, timeoutMs);
    const sub = event((s) => {
      if (!pred(s)) return;
      clearTimeout(timer);
      sub.dispose();
      ok(s);
    });
  });
}

/** The next onDidStop matching `pred`. */
export function nextStop(a: VmemExtensionApi, pred: (s: StopState) => boolean = () => true, timeoutMs = 30_000): Promise<StopState> {
  return nextState(a.sessions.onDidStop, pred, 'stop', timeoutMs);
}

/** Starts a session stopped on entry, arms `filters`, continues to the first stop they cause. */
export async function debugTo(a: VmemExtensionApi, config: Record<string, unknown>, filters: string[], pred: (s: StopState) => boolean): Promise<StopState> {
  const entry = nextStop(a);
  const ok = await vscode.debug.startDebugging(workspaceFolder(), { type: 'vmem', request: 'launch', name: 'views test', stopOnEntry: true, ...config });
  assert.ok(ok, 'startDebugging');
  const first = await entry;
  await first.session.customRequest('setExceptionBreakpoints', { filters: [], filterOptions: filters.map((filterId) => ({ filterId })) });
  const stop = nextStop(a, pred);
  await first.session.customRequest('continue', { threadId: first.threadId });
  return stop;
}

/**
 * Stops the active vmem session (if any) and waits until VmemSessions has seen it end and VS Code
 * has let go of it: the adapter's `terminated` comes before VS Code removes the session, and a
 * session started while VS Code still focuses the old one's thread is not focused at its stop.
 */
export async function endSession(a: VmemExtensionApi): Promise<void> {
  const s = a.sessions.session;
  if (!s) return;
  const ended = nextEvent(a.sessions.onDidEnd);
  const terminated = nextEvent(vscode.debug.onDidTerminateDebugSession, (t) => t.id === s.id);
  await vscode.debug.stopDebugging(s);
  await Promise.all([ended, terminated]);
  await waitFor(`VS Code to let go of session ${s.name}`, () =>
    (vscode.debug.activeDebugSession?.id !== s.id && vscode.debug.activeStackItem?.session.id !== s.id ? true : undefined));
}
