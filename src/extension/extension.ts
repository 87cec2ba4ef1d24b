// VS Code host side: activate only wires the modules together. VmemSessions is the one client
// of vmem debug sessions; the views, webviews and debugging UX all read the machine through it.
import * as vscode from 'vscode';
import { registerLanguage } from './language';
import { VmemSessions } from './session';
import { registerUx } from './ux';
import { registerViews } from './views';
import type { VmemViews } from './views';
import { registerWebviews } from './webviews';
import type { VmemWebviews } from './webviews';

/**
 * What activate returns: for the extension-host tests, which check the views against the session,
 * and the extension-host benchmark, which times the views' and panels' refresh at a stop.
 */
export interface VmemExtensionApi {
  sessions: VmemSessions;
  views: VmemViews | undefined;
  webviews: VmemWebviews | undefined;
}

export function activate(context: vscode.ExtensionContext): VmemExtensionApi {
  const sessions = new VmemSessions();
  context.subscriptions.push(sessions);
  // One module failing to register must not take the others down with it.
  wire('language support', () => registerLanguage(context));
  wire('debugging', () => registerUx(context, sessions));
  const webviews = wire('webviews', () => registerWebviews(context, sessions));
  const views = wire('views', () => registerViews(context, sessions));
  return { sessions, views, webviews };
}

function wire<T>(what: string, register: () => T): T | undefined {
  try {
    return register();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    console.error(`VMem: registering the ${what} failed`, e);
    void vscode.window.showErrorMessage(`VMem: the ${what} could not start: ${message}`);
    return undefined;
  }
}

export function deactivate(): void {
  // Everything is released through context.subscriptions.
}
