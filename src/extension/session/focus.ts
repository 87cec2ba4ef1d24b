// The address the views focus on at a stop: the current fault's gva or the last access, from the
// adapter's `vmem/context` answer, or — from an adapter without it — the gva in the stop's
// exceptionInfo fields. Bodies are read defensively: they cross a process boundary.
import type { ContextWire } from '../../debugAdapter/viewsProtocol';

const HEX = /^0x[0-9a-f]+$/i;

/** A number or hex string as a canonical lower-case 0x string, or undefined. */
export function normalizeAddress(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return '0x' + v.toString(16);
  if (typeof v === 'string' && HEX.test(v.trim())) return '0x' + BigInt(v.trim()).toString(16);
  return undefined;
}

/** `vmem/context`'s focusAddress (null there means: no address to focus on). */
export function focusOfContext(body: Partial<ContextWire> | undefined): string | undefined {
  return normalizeAddress(body?.focusAddress);
}

/** The linear address an exceptionInfo's event fields name: gva (faults, INVLPG, EPT violations) or an exit's guest-linear address. */
export function focusOfExceptionInfo(body: unknown): string | undefined {
  const fields = (body as { details?: { fields?: Record<string, unknown> } } | undefined)?.details?.fields;
  if (!fields || typeof fields !== 'object') return undefined;
  return normalizeAddress(fields.gva) ?? normalizeAddress(fields.guestLinear);
}
