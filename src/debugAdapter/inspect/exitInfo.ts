// The last VM exit decoded: reason, qualification (raw and in words), the guest-linear and
// guest-physical addresses, interruption information and error code.
import type { RecordedExit } from '../../engine/vmm/monitor';
import type { InspectedVm } from './target';
import { hex } from './format';

const INTERRUPTION_TYPES: Record<number, string> = { 0: 'external interrupt', 2: 'NMI', 3: 'hardware exception', 4: 'software interrupt', 6: 'software exception' };

export function describeInterruptionInfo(info: number): string {
  const valid = (info >>> 31) & 1;
  if (!valid) return 'not valid';
  return `vector ${info & 0xff}, ${INTERRUPTION_TYPES[(info >> 8) & 7] ?? `type ${(info >> 8) & 7}`}${info & (1 << 11) ? ', error code valid' : ''}`;
}

/** name → value pairs of an exit, in display order. */
export function exitFields(e: RecordedExit): [string, string][] {
  const rows: [string, string][] = [
    ['reason', `${e.reason} ${e.reasonName}`],
    ['qualification', hex(e.qualification)],
    ['decoded', e.description || '(none)'],
  ];
  if (e.guestLinear !== undefined) rows.push(['guest-linear address', hex(e.guestLinear)]);
  if (e.guestPhysical !== undefined) rows.push(['guest-physical address', hex(e.guestPhysical)]);
  if (e.interruptionInfo !== undefined) rows.push(['interruption info', `${hex(e.interruptionInfo)} (${describeInterruptionInfo(e.interruptionInfo)})`]);
  if (e.errorCode !== undefined) rows.push(['error code', hex(e.errorCode)]);
  if (e.instructionLength !== undefined) rows.push(['instruction length', String(e.instructionLength)]);
  rows.push(['vcpu', String(e.vcpu)], ['rip', hex(e.rip)], ['icount', String(e.icount)]);
  return rows;
}

export function describeLastExit(v: InspectedVm): string[] | null {
  const e = v.monitor?.lastExit;
  return e ? exitFields(e).map(([k, x]) => `${k}: ${x}`) : null;
}
