// The guest-physical side of the machine memory map: each VM's pages by p2m state. Ballooned and
// swapped pages have no machine frame, so the frame map alone cannot show them; this can.
// Built from the p2m's run scan (P2m.stateRuns) and per-page look-ups only where a state has a
// per-page detail (a shared page's frame, a swapped page's slot): a 1 GiB guest is a few ms.
import { PAGE_STATES } from '../../engine/vmm/p2m';
import type { PageState } from '../../engine/vmm/p2m';
import type { InspectTarget } from './target';
import type { GuestPageRunWire, GuestPagesWire } from '../viewsProtocol';

export interface PpnWindow {
  /** Only pages in [fromPpn, toPpn) get runs (the view asks for what it shows); counts cover every page. */
  fromPpn?: number;
  toPpn?: number;
}

/** Every VM with a p2m (none in native mode), in the target's order. Plain JSON: no bigints. */
export function guestPages(t: InspectTarget, w: PpnWindow = {}): GuestPagesWire[] {
  const shared = t.machine?.memory.shared;
  const out: GuestPagesWire[] = [];
  for (const v of t.vms) {
    const p2m = v.p2m;
    if (!p2m) continue;
    const from = Math.max(0, Math.min(p2m.pages, w.fromPpn ?? 0));
    const to = Math.max(from, Math.min(p2m.pages, w.toPpn ?? p2m.pages));
    // The scan's run objects become the wire's: filled in place, no copy per run.
    const runs: GuestPageRunWire[] = p2m.stateRuns(from, to);
    for (const r of runs) {
      if (r.state === 'shared') {
        const mpns: number[] = [];
        const refs: number[] = [];
        for (let i = 0; i < r.count; i++) {
          const mpn = p2m.lookup(r.ppn + i);
          mpns.push(mpn);
          refs.push(shared ? shared.refs(mpn) : 0);
        }
        r.mpns = mpns;
        r.refs = refs;
      } else if (r.state === 'swapped') {
        const slots: number[] = [];
        for (let i = 0; i < r.count; i++) slots.push(p2m.slotOf(r.ppn + i));
        r.slots = slots;
      }
    }
    const counts = {} as Record<PageState, number>;
    for (const s of PAGE_STATES) counts[s] = p2m.pagesIn(s);
    out.push({ vm: v.id, name: v.name, pages: p2m.pages, counts, fromPpn: from, toPpn: to, swapFile: p2m.swapFile.options.name, runs });
  }
  return out;
}
