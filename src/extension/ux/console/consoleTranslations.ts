// `translate <gva>` typed in the Debug Console: the adapter sends vmem/showTranslation and the
// Address Translation panel opens on that walk. The panel walks in the thread selected in CALL
// STACK; a line evaluated in another vCPU's frame is said so, rather than shown as if it matched.
import * as vscode from 'vscode';
import { showAddressTranslation } from '../../webviews';
import type { UxSessions, UxTranslationRequest } from '../sessionsPort';

export function onConsoleTranslation(sessions: UxSessions, r: UxTranslationRequest): void {
  const st = sessions.state;
  if (st && st.session.id === r.session.id && (st.vm !== r.vm || st.vcpu !== r.vcpu)) {
    void vscode.window.showWarningMessage(
      `VMem: translate ran on vm${r.vm}/vcpu${r.vcpu}, but the Address Translation panel walks the selected thread (vm${st.vm}/vcpu${st.vcpu}): select that vCPU in CALL STACK to see its walk.`,
    );
  }
  showAddressTranslation(r.gva, { access: r.access, user: r.user });
}

export function followConsoleTranslations(sessions: UxSessions): vscode.Disposable {
  return sessions.onDidRequestTranslation((r) => onConsoleTranslation(sessions, r));
}
