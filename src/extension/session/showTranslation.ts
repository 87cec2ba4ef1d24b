// The adapter's `vmem/showTranslation` event (a Debug Console `translate <gva>`), read
// defensively: it crosses a process boundary.
import type { ShowTranslationWire } from '../../debugAdapter/viewsProtocol';
import { normalizeAddress } from './focus';

const ACCESSES: readonly string[] = ['read', 'write', 'fetch'];
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The event's body with its gva as canonical lower-case 0x hex, or undefined when malformed. */
export function showTranslationOf(body: unknown): ShowTranslationWire | undefined {
  const b = body as Partial<Record<keyof ShowTranslationWire, unknown>> | undefined;
  if (!b || typeof b !== 'object') return undefined;
  const gva = normalizeAddress(b.gva);
  if (gva === undefined || !isCount(b.vm) || !isCount(b.vcpu)) return undefined;
  const access = typeof b.access === 'string' && ACCESSES.includes(b.access) ? (b.access as ShowTranslationWire['access']) : 'read';
  return { vm: b.vm, vcpu: b.vcpu, gva, access, user: b.user === true };
}
