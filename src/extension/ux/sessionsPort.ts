// The part of VmemSessions (src/extension/session/) the debugging UX uses. VmemSessions satisfies
// it structurally; keeping the dependency this narrow lets the UX run against a test double.
import type * as vscode from 'vscode';
import type { ViewRequestName, ViewRequests } from '../../debugAdapter/viewsProtocol';

export interface UxStopState {
  session: vscode.DebugSession;
  threadId: number;
  vm: number;
  vcpu: number;
  frameId: number | undefined;
  focusAddress?: string;
}

export interface UxSessions {
  readonly state: UxStopState | undefined;
  readonly onDidStop: vscode.Event<UxStopState>;
  request<K extends ViewRequestName>(name: K, args: ViewRequests[K]['args']): Promise<ViewRequests[K]['body']>;
  evaluate(expression: string, context?: 'repl' | 'watch' | 'hover'): Promise<string>;
}
