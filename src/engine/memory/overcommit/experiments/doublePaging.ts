// Experiment (d), double paging (Waldspurger 2002 §3.1): guests whose own swapper is busy (their
// allocator manages fewer frames than they use) on a machine that is itself overcommitted. When
// the VMM swaps too (no balloon driver), the guest's swapper picks pages the VMM already wrote to
// its swap file: the VMM must read each back in only for the guest to write it out again — the
// p2m counts it (counters.doublePaging). With the balloon, the guest gives the memory up itself
// and the VMM has no reason to swap: no double paging.
import type { ExperimentSize, ExperimentTable, ProgramLoader } from './experimentTypes';
import { MiB, PAGE, round } from './runToTime';
import { runActivePair, type ActivePairParams } from './activePair';
import { guestSwapCounts } from './guestSwapCount';

export type DoublePagingParams = ActivePairParams;

export const DOUBLE_PAGING_PARAMS: Record<ExperimentSize, DoublePagingParams> = {
  full: { machinePages: 144, hot: 40, cold: 48, pool: 64, rounds: 600, seed: 1 },
  small: { machinePages: 144, hot: 40, cold: 48, pool: 64, rounds: 200, seed: 1 },
};

export function doublePagingExperiment(load: ProgramLoader, size: ExperimentSize = 'full', p: DoublePagingParams = DOUBLE_PAGING_PARAMS[size]): ExperimentTable {
  const rows: ExperimentTable['rows'] = [];
  const audit: string[] = [];
  for (const balloon of [false, true]) {
    const r = runActivePair(load, p, balloon, true);
    const config = balloon ? 'balloon' : 'VMM swapping';
    audit.push(...r.audit.map((v) => `d, ${config}: ${v}`));
    for (const v of r.vms) {
      const g = guestSwapCounts(v.console);
      rows.push({
        config,
        vm: v.name,
        finished: v.stopped && /cold pages intact/.test(v.console),
        doublePaging: v.oc.counters.doublePaging,
        vmmSwapOuts: v.oc.counters.swapOuts,
        vmmSwapIns: v.oc.counters.swapIns,
        guestSwapOuts: g ? g.out : null,
        guestSwapIns: g ? g.in : null,
        balloon: v.oc.balloon?.size ?? 0,
        throughput: round(v.throughput, 3),
      });
    }
  }
  return {
    id: 'd',
    title: '(d) Double paging: a guest swapper under hypervisor swapping vs with ballooning (Waldspurger 2002, §3.1)',
    columns: [
      { key: 'config', label: 'host reclaims by', meaning: 'VMM swapping: no balloon driver (BALLOON=0); balloon: the driver loaded' },
      { key: 'vm', label: 'VM', meaning: 'the VM (both run active.s with a small allocator: the guest swaps)' },
      { key: 'finished', label: 'done', meaning: 'the guest finished and found all its pages intact' },
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
      `machine ${p.machinePages} pages (${round((p.machinePages * PAGE) / MiB, 3)} MiB), two shadow-paged VMs of 16 MiB (1 MiB limit); each guest: ${p.hot} hot + ${p.cold} cold heap pages, ${p.rounds} rounds, its allocator managing only ${p.pool} frames (GUEST_SWAP=1)`,
      'ESX thresholds, balance period 15 s, random victims, swap latency 10 ms; sharing off',
    ],
    auditViolations: audit,
  };
}
