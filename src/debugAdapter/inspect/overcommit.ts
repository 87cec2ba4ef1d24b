// The `vmem/overcommit` payload: the machine's memory management as the Memory Overcommit view
// draws it — the engine's OvercommitSnapshot made JSON-safe (ρ is +∞ for a VM holding no pages
// and JSON has no Infinity: it travels as null), or why there is nothing to show.
import type { OvercommitSnapshot } from '../../engine/memory/overcommit/overcommitSnapshot';
import type { InspectTarget } from './target';
import type { OvercommitDisabledWire, OvercommitResponseWire, OvercommitWire, RhoWire } from '../viewsProtocol';

export const NATIVE_WHY = 'Native mode: the guest runs on the machine itself, with no hypervisor and so no memory scheduler — nothing is overcommitted, ballooned, shared or swapped by a VMM. Launch it under shadow, nested or paravirt paging on a machine with a memory scheduler to see this view.';
export const NO_SCHEDULER_WHY = 'This machine has no memory scheduler: its VMs\' memory is not overcommitted, so there are no targets, balloons, working-set estimates or ρ to show. A scenario gets one when machine.memoryMiB is below its VMs\' memory together, or with a machine.memsched configuration (docs/overcommit.md).';

/** +∞ (and a NaN, which would be a bug upstream but must not break JSON) become null. */
export function rhoWire(rho: number): RhoWire {
  return Number.isFinite(rho) ? rho : null;
}

/** The snapshot as the wire carries it: copies, so a later rebalance cannot change a sent payload. */
export function overcommitWire(s: OvercommitSnapshot): OvercommitWire {
  return {
    enabled: true,
    seconds: s.seconds, policy: s.policy, tau: s.tau, victim: s.victim, state: s.state,
    totalPages: s.totalPages, freePages: s.freePages, thresholds: { ...s.thresholds }, rebalances: s.rebalances,
    vms: s.vms.map((v) => ({
      ...v,
      pages: { ...v.pages },
      balloon: v.balloon ? { ...v.balloon } : null,
      counters: { ...v.counters },
      rho: rhoWire(v.rho),
    })),
    sharing: s.sharing ? { ...s.sharing } : null,
    swap: { ...s.swap },
    history: s.history.map((h) => ({ ...h, vms: h.vms.map((v) => ({ ...v, rho: rhoWire(v.rho) })) })),
    resolution: s.resolution,
  };
}

export function overcommitDisabled(why: string): OvercommitDisabledWire {
  return { enabled: false, why };
}

/** The machine's memory management, or why there is none (native mode; no scheduler). */
export function overcommitPayload(t: InspectTarget): OvercommitResponseWire {
  if (!t.machine) return overcommitDisabled(NATIVE_WHY);
  const oc = t.machine.overcommit;
  return oc ? overcommitWire(oc.snapshot()) : overcommitDisabled(NO_SCHEDULER_WHY);
}
