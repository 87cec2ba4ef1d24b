// Experiment (d), double paging (Waldspurger 2002 §3.1): VM a's own swapper is busy (its
// allocator manages fewer frames than it writes: it pages its cold pages to its disk, and reads
// them all back at the end) when VM b powers on later and grows, so that the machine runs short.
// When the VMM swaps (no balloon driver), its random victims include a's resident cold pages; a's
// swapper, picking the pages it has not used lately, then chooses pages the VMM already wrote to
// its swap file: the VMM must read each back in only for the guest to write it out again — the
// p2m counts it (counters.doublePaging). With the balloon, a gives the memory up through its own
// swapper and the VMM has no reason to swap: no double paging. Both configurations run the same
// machine, guests and timing; only the driver differs.
import type { ExperimentSize, ExperimentTable, ProgramLoader } from './experimentTypes';
import { MiB, PAGE, round } from './runToTime';
import { describeGuest, reclaimCounts, runActivePair, type PairGuest, type PairMachine } from './activePair';
import { guestSwapCounts } from './guestSwapCount';

export interface DoublePagingParams {
  machine: PairMachine;
  guests: PairGuest[];
}

function params(rounds: number): DoublePagingParams {
  return {
    machine: { machinePages: 256, minFreePages: 32, seed: 1 },
    guests: [
      { name: 'a', defines: { HOT: 40, COLD: 80, ROUNDS: rounds, FRAME_POOL_PAGES: 112, CHECK_COLD: 1 } },
      // Starts later and grows at about 4 pages per machine second (balloonVsSwap.ts).
      { name: 'b', defines: { HOT: 76, COLD: 8, ROUNDS: 100, DELAY: 100_000, RAMP: 60_000, RAMP_AFTER: 60, FRAME_POOL_PAGES: 132, CHECK_COLD: 0 } },
    ],
  };
}

export const DOUBLE_PAGING_PARAMS: Record<ExperimentSize, DoublePagingParams> = {
  full: params(2000),
  small: params(1000),
};

export function doublePagingExperiment(load: ProgramLoader, size: ExperimentSize = 'full', p: DoublePagingParams = DOUBLE_PAGING_PARAMS[size]): ExperimentTable {
  const rows: ExperimentTable['rows'] = [];
  const audit: string[] = [];
  for (const balloon of [false, true]) {
    const r = runActivePair(load, p.machine, p.guests, balloon);
    const config = balloon ? 'balloon' : 'VMM swapping';
    audit.push(...r.audit.map((v) => `d, ${config}: ${v}`));
    for (const v of r.vms) {
      const g = guestSwapCounts(v.console);
      const { balloon, ...counts } = reclaimCounts(v);
      const checksCold = (p.guests.find((x) => x.name === v.name)?.defines.CHECK_COLD ?? 1) !== 0; // active.s checks by default
      rows.push({
        config,
        vm: v.name,
        finished: v.stopped && /hot pages intact/.test(v.console) && (!checksCold || /cold pages intact/.test(v.console)),
        doublePaging: v.oc.counters.doublePaging,
        ...counts,
        guestSwapIns: g ? g.in : null,
        balloon,
        throughput: round(v.throughput, 3),
      });
    }
  }
  const m = p.machine;
  return {
    id: 'd',
    title: '(d) Double paging: a guest swapper under hypervisor swapping vs with ballooning (Waldspurger 2002, §3.1)',
    columns: [
      { key: 'config', label: 'host reclaims by', meaning: 'VMM swapping: no balloon driver (BALLOON=0); balloon: the driver loaded' },
      { key: 'vm', label: 'VM', meaning: 'a: its own swapper busy (small allocator, re-reads its cold pages at the end); b: starts later and grows' },
      { key: 'finished', label: 'done', meaning: 'the guest finished and found its pages intact (a: hot and cold, b: hot)' },
      { key: 'doublePaging', label: 'double', meaning: 'double-paging events: the guest wrote out a page the VMM had swapped (p2m counters.doublePaging)' },
      { key: 'vmmSwapOuts', label: 'VMM out', meaning: 'pages the hypervisor swapped out' },
      { key: 'vmmSwapIns', label: 'VMM in', meaning: 'pages the hypervisor swapped in (touches and double paging)' },
      { key: 'guestSwapOuts', label: 'guest out', meaning: "pages the guest's swapper wrote to its disk" },
      { key: 'guestSwapIns', label: 'guest in', meaning: "pages the guest's swapper read back" },
      { key: 'balloon', label: 'balloon', meaning: 'balloon size at the end (pages)' },
      { key: 'throughput', label: 'throughput', meaning: 'instructions / (instructions + stall cycles)' },
    ],
    rows,
    expected: 'double paging > 0 under hypervisor swapping; 0 with ballooning (the VMM does not swap, so the guest never picks a page the VMM swapped).',
    notes: [
      `machine ${m.machinePages} pages (${round((m.machinePages * PAGE) / MiB, 3)} MiB), two shadow-paged VMs of 16 MiB (1 MiB limit), equal shares, their own swappers on`,
      ...p.guests.map((g) => `active.s ${describeGuest(g)}`),
      `ESX thresholds with a floor of ${m.minFreePages} pages for high (memsched.thresholds.minFreePages), balance period 15 s, random victims, swap latency 10 ms; sharing off`,
    ],
    auditViolations: audit,
  };
}
