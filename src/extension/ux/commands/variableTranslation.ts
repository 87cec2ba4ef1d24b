// "Show Address Translation" on a variable in VARIABLES (menu debug/variables/context, shown on
// variables the adapter marks as gvas). VS Code 1.100 passes { sessionId, container, variable }
// with the DAP variable; its memoryReference gva:<vm>/<vcpu>:<hex> is the address, else its value.
import type { WalkAccess } from '../../../engine/mmu/walkRecord';
import { parseGvaReference } from '../gvaReference';
import { addressLiteralHex } from './addressInput';

export interface VariableTarget {
  gva: string;
  name: string;
  /** rip is walked as a fetch; otherwise the panel's access (or the stop's, see below). */
  access?: WalkAccess;
  vm?: number;
  vcpu?: number;
}

interface MenuVariable {
  name?: unknown;
  value?: unknown;
  memoryReference?: unknown;
}

export function variableTarget(arg: unknown): VariableTarget | undefined {
  const v = (arg as { variable?: MenuVariable } | undefined)?.variable;
  if (!v || typeof v !== 'object') return undefined;
  const name = typeof v.name === 'string' ? v.name : '';
  const access: WalkAccess | undefined = name === 'rip' ? 'fetch' : undefined;
  const ref = parseGvaReference(v.memoryReference);
  if (ref) return { gva: ref.gva, name, access, vm: ref.vm, vcpu: ref.vcpu };
  // A value like "0x0000000000401000" or "0x401000  [table …]": its first word.
  const first = typeof v.value === 'string' ? v.value.trim().split(/\s+/)[0] : '';
  const gva = addressLiteralHex(first);
  return gva === undefined ? undefined : { gva, name, access };
}
