// The host's description of a stop for the webviews, and the handling of request failures
// every panel shares.
import type { StopState, VmemSessions } from '../session';
import { VmemRequestError } from '../session';
import type { PhaseMessage, StopRef } from '../../webview/shared/messages';

/** The selected vCPU's thread name as CALL STACK shows it (`<vm name>/vcpu<n>`). */
export function stopRef(sessions: VmemSessions, st: StopState): StopRef {
  const name = sessions.statistics?.vms.find((v) => v.vm === st.vm)?.name ?? `vm${st.vm}`;
  return { stopCount: st.stopCount, vm: st.vm, vcpu: st.vcpu, thread: `${name}/vcpu${st.vcpu}`, reason: st.reason, description: st.description };
}

/** What to show when there is no stopped state: no session at all, or one that is running. */
export function idlePhase(sessions: VmemSessions): PhaseMessage {
  return { type: 'phase', phase: sessions.session ? 'running' : 'none' };
}

/**
 * Sorts a failed request: undefined when it is routine (the machine moved on or the session
 * ended — the next event redraws), else the message worth showing.
 */
export function failureMessage(e: unknown): string | undefined {
  if (e instanceof VmemRequestError) return e.failure === 'adapter' ? e.message : undefined;
  return e instanceof Error ? e.message : String(e);
}
