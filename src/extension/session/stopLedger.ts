// The stop/resume state machine of one debug session, free of vscode so it is unit-tested in
// node. Every transition moves the epoch on: an answer that arrives in a later epoch than the
// one its request was made in describes a machine that has moved since, and is dropped.

export type Phase = 'running' | 'stopping' | 'stopped' | 'ended';

/** DAP requests after which the client may assume the debuggee runs (the adapter sends no `continued` for them). */
export const RESUMING_REQUESTS: ReadonlySet<string> = new Set([
  'continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'goto', 'restart', 'restartFrame',
]);

/** DAP requests that change the stopped machine (registers, memory): what the views read at this stop may differ after. */
export const MACHINE_WRITING_REQUESTS: ReadonlySet<string> = new Set(['setVariable', 'setExpression', 'writeMemory']);

export class StopLedger {
  private phaseNow: Phase = 'running';
  private epochNow = 0;
  private stops = 0;

  get phase(): Phase {
    return this.phaseNow;
  }

  get epoch(): number {
    return this.epochNow;
  }

  /** Stops seen so far (the one being completed included). */
  get stopCount(): number {
    return this.stops;
  }

  /** A `stopped` event arrived: its state is being gathered. Returns the epoch that gathering belongs to. */
  stopped(): number {
    if (this.phaseNow === 'ended') return this.epochNow;
    this.stops++;
    this.phaseNow = 'stopping';
    return ++this.epochNow;
  }

  /** The stop's state is known. False when the session moved on meanwhile (the state is stale). */
  settled(epoch: number): boolean {
    if (epoch !== this.epochNow || this.phaseNow !== 'stopping') return false;
    this.phaseNow = 'stopped';
    return true;
  }

  /** The debuggee runs again. True when this is news (it was stopped or stopping). */
  resumed(): boolean {
    if (this.phaseNow !== 'stopped' && this.phaseNow !== 'stopping') return false;
    this.phaseNow = 'running';
    this.epochNow++;
    return true;
  }

  /** The session is over. True the first time. */
  ended(): boolean {
    if (this.phaseNow === 'ended') return false;
    this.phaseNow = 'ended';
    this.epochNow++;
    return true;
  }

  isCurrent(epoch: number): boolean {
    return epoch === this.epochNow && this.phaseNow !== 'ended';
  }
}
