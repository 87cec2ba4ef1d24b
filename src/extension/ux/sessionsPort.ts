// The part of VmemSessions (src/extension/session/) the debugging UX uses. VmemSessions satisfies
// it structurally; keeping the dependency this narrow lets the UX run against a test double.
import type * as vscode from 'vscode';
import type { ShowTranslationWire, ViewRequestName, ViewRequests } from '../../debugAdapter/viewsProtocol';
import type { WalkAccess } from '../../engine/mmu/walkRecord';

export interface UxStopState {
  session: vscode.DebugSession;
  threadId: number;
  vm: number;
  vcpu: number;
  frameId: number | undefined;
  focusAddress?: string;
  focusAccess?: WalkAccess;
}

/** A Debug Console `translate <gva>` (the adapter's vmem/showTranslation event). */
export interface UxTranslationRequest extends ShowTranslationWire {
  session: vscode.DebugSession;
}

export interface UxSessions {
  readonly state: UxStopState | undefined;
  readonly onDidStop: vscode.Event<UxStopState>;
  readonly onDidRequestTranslation: vscode.Event<UxTranslationRequest>;
  request<K extends ViewRequestName>(name: K, args: ViewRequests[K]['args']): Promise<ViewRequests[K]['body']>;
  evaluate(expression: string, context?: 'repl' | 'watch' | 'hover'): Promise<string>;
}
