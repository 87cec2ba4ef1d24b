// The adapter's `vmem/stopped` event (docs/views-protocol.md), read defensively: it crosses a
// process boundary, and a malformed one is ignored (the stop is then gathered by asking).
import type { StopContextWire } from '../../debugAdapter/viewsProtocol';

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function stopContextOf(body: unknown): StopContextWire | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Partial<Record<keyof StopContextWire, unknown>>;
  if (!isCount(b.threadId) || !isCount(b.vm) || b.vm < 1 || !isCount(b.vcpu)) return undefined;
  if (typeof b.context !== 'object' || b.context === null) return undefined;
  return { threadId: b.threadId, vm: b.vm, vcpu: b.vcpu, context: b.context as StopContextWire['context'] };
}
