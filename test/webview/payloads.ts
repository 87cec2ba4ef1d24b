// The host's Address Translation message around a recorded adapter answer, as
// src/extension/webviews/translationPanel.ts sends it: one builder for every suite that feeds the panel.
import type { TlbTagWire, TranslationMessage } from '../../src/webview/shared/messages';
import type { TlbWire, TranslationWire } from '../../src/debugAdapter/viewsProtocol';

/** What the adapter answered for one gva: its walk and the vCPU's TLB (none in native mode). */
export interface Answer { walk: TranslationWire; tlb?: TlbWire }

/** The TLB's tag without its entries: what the message carries. */
export function tlbTag(t: TlbWire | undefined): TlbTagWire | null {
  if (!t) return null;
  const { entries: _e, ...rest } = t;
  return rest;
}

/** The message for `a` at stop `stopCount` of vm1/vcpu0, following the stop's focus. */
export function translationMessage(a: Answer, stopCount: number, previous?: Answer & { stopCount: number }): TranslationMessage {
  return {
    type: 'translation', source: 'focus',
    stop: { stopCount, vm: 1, vcpu: 0, thread: 'vm1/vcpu0', reason: 'exception', description: `Hidden page fault at gva ${a.walk.gva} (shadow miss)` },
    query: { gva: a.walk.gva, access: a.walk.access, user: a.walk.guest.user }, walk: a.walk, tlbTag: tlbTag(a.tlb),
    previous: previous && { stopCount: previous.stopCount, walk: previous.walk, tlbTag: tlbTag(previous.tlb) },
  };
}
