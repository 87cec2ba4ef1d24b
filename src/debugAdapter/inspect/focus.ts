// The address a stop is about, for the views to open on: the faulting gva of the event that
// stopped the vCPU (a page fault, an EPT violation, the VM exit of one), else the address of the
// vCPU's last translation (what the Translation scope shows), else none.
import type { AccessKind, EngineEvent } from '../../engine/events';
import type { InspectedVm } from './target';
import { lastWalkOf } from './variables';

export interface Focus {
  address: bigint | null;
  access: AccessKind;
  source: 'fault' | 'access' | 'none';
}

/** EPT violation exit qualification bits 0–2: the access that caused it (SDM Table 28-7). */
function eptAccess(qualification: bigint): AccessKind {
  return qualification & 4n ? 'fetch' : qualification & 2n ? 'write' : 'read';
}

const EPT_VIOLATION_EXIT = 48;

/** The gva and access of a faulting event, or undefined for any other event. */
export function faultOf(e: EngineEvent): { gva: bigint; access: AccessKind } | undefined {
  switch (e.kind) {
    case 'page-fault':
      return { gva: e.gva, access: e.access };
    case 'ept-violation':
      return e.gva === undefined ? undefined : { gva: e.gva, access: eptAccess(e.qualification) };
    case 'vm-exit':
      return e.reason === EPT_VIOLATION_EXIT && e.guestLinear !== undefined ? { gva: e.guestLinear, access: eptAccess(e.qualification) } : undefined;
    default:
      return undefined;
  }
}

/** `stopEvent`: the event this vCPU stopped on, if it did. */
export function focusOf(v: InspectedVm, vcpu: number, stopEvent: EngineEvent | undefined): Focus {
  const fault = stopEvent ? faultOf(stopEvent) : undefined;
  if (fault) return { address: fault.gva, access: fault.access, source: 'fault' };
  const { walk, faulted } = lastWalkOf(v, vcpu);
  if (walk) return { address: walk.linear, access: walk.access, source: faulted ? 'fault' : 'access' };
  return { address: null, access: 'read', source: 'none' };
}
