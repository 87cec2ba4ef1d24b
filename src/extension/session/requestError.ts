// The typed failures of VmemSessions.request: callers tell "nothing to ask" and "the machine
// moved on" (both routine) from a real adapter error (worth showing).

export type VmemRequestFailure = 'no-session' | 'stale' | 'adapter';

export class VmemRequestError extends Error {
  constructor(readonly failure: VmemRequestFailure, message: string) {
    super(message);
    this.name = 'VmemRequestError';
  }
}

/** True for failures a view just drops: no session, or an answer about a state that is gone. */
export function isRoutineFailure(e: unknown): boolean {
  return e instanceof VmemRequestError && e.failure !== 'adapter';
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
