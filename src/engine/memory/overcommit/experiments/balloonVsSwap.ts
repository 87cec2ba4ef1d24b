// Experiment (c): the same memory pressure relieved by ballooning or by hypervisor swapping only.
// VM a (examples/overcommit/active.s) has been running: it wrote its cold and hot pages, used FREED
// more for a start-up job and gave them back to its kernel — free to the guest, but backed by
// machine frames the VMM cannot tell from used ones. VM b powers on a little later and grows into
// the machine at a steady pace (RAMP), which then runs short. With the balloon driver (BALLOON=1)
// a's guest hands over pages it considers free — its allocator's free list, most recently freed
// first — and nothing is written or read back; without it (BALLOON=0) the VMM swaps a's pages at
// random, hot ones included, and each touch of one waits for a swap-in. The reference (VMware's
// 2009 balloon-vs-swap study, qualitatively): throughput flat under ballooning, falling under host
// swapping. Both configurations run the same machine, guests and timing; only the driver differs.
import type { ExperimentSize, ExperimentTable, ProgramLoader } from './experimentTypes';
import { MiB, PAGE, round } from './runToTime';
import { describeGuest, reclaimCounts, runActivePair, type PairGuest, type PairMachine } from './activePair';

export interface BalloonVsSwapParams {
  machine: PairMachine;
  /** The guests, per pressure level: how far the late VM grows (its hot pages). */
  levels: { hotOfB: number; guests: PairGuest[] }[];
}

/** VM a: running, 44 of its pages used once and freed. */
const RUNNING = (rounds: number): PairGuest => ({ name: 'a', defines: { HOT: 76, COLD: 8, FREED: 44, ROUNDS: rounds, FRAME_POOL_PAGES: 132, CHECK_COLD: 0 } });

/** VM b starts later and grows at RAMP (loop iterations per page after RAMP_AFTER pages): about
 *  4 pages per machine second — what the soft band (minFreePages / 3 ≈ 10 pages) absorbs between
 *  two balloon polls (a guest second is about two machine seconds with two VMs). */
const LATE = (hot: number): PairGuest => ({ name: 'b', defines: { HOT: hot, COLD: 8, ROUNDS: 100, DELAY: 100_000, RAMP: 60_000, RAMP_AFTER: 60, FRAME_POOL_PAGES: 132, CHECK_COLD: 0 } });

function params(rounds: number, hotOfB: number[]): BalloonVsSwapParams {
  return {
    machine: { machinePages: 256, minFreePages: 32, seed: 1 },
    levels: hotOfB.map((h) => ({ hotOfB: h, guests: [RUNNING(rounds), LATE(h)] })),
  };
}

export const BALLOON_VS_SWAP_PARAMS: Record<ExperimentSize, BalloonVsSwapParams> = {
  // Rising pressure, as VMware's balloon-vs-swap study lowered the VM's memory step by step.
  full: params(1500, [60, 68, 76]),
  small: params(1000, [76]),
};

export function balloonVsSwapExperiment(load: ProgramLoader, size: ExperimentSize = 'full', p: BalloonVsSwapParams = BALLOON_VS_SWAP_PARAMS[size]): ExperimentTable {
  const rows: ExperimentTable['rows'] = [];
  const audit: string[] = [];
  for (const level of p.levels) {
    for (const balloon of [true, false]) {
      const r = runActivePair(load, p.machine, level.guests, balloon);
      const config = balloon ? 'balloon' : 'swap only';
      audit.push(...r.audit.map((v) => `c, b hot ${level.hotOfB}, ${config}: ${v}`));
      for (const v of r.vms) {
        rows.push({
          hotOfB: level.hotOfB,
          config,
          vm: v.name,
          finished: v.stopped && /hot pages intact/.test(v.console),
          throughput: round(v.throughput, 3),
          stallS: round(v.stallCycles / 1e6, 2),
          ...reclaimCounts(v),
          runS: round(r.seconds, 2),
        });
      }
    }
  }
  const m = p.machine;
  return {
    id: 'c',
    title: '(c) The same memory pressure relieved by ballooning vs by hypervisor swapping only',
    columns: [
      { key: 'hotOfB', label: 'b hot', meaning: 'the pressure: hot pages of the late VM b (it touches 8 cold pages and these, plus its kernel\'s)' },
      { key: 'config', label: 'reclaim by', meaning: 'balloon: the guests run the balloon driver; swap only: no driver (BALLOON=0), the VMM swaps' },
      { key: 'vm', label: 'VM', meaning: 'a: running, with free (backed) memory; b: starts later and grows' },
      { key: 'finished', label: 'done', meaning: 'the guest finished and found its hot pages intact' },
      { key: 'throughput', label: 'throughput', meaning: 'instructions / (instructions + stall cycles)' },
      { key: 'stallS', label: 'stall s', meaning: 'simulated seconds the VM waited (VMM swap-ins and its own disk)' },
      { key: 'vmmSwapOuts', label: 'VMM out', meaning: 'pages the hypervisor swapped out' },
      { key: 'vmmSwapIns', label: 'VMM in', meaning: 'pages the hypervisor swapped back in on a touch (each a stall)' },
      { key: 'guestSwapOuts', label: 'guest out', meaning: "pages the guest's own swapper wrote to its disk" },
      { key: 'balloon', label: 'balloon', meaning: 'balloon size at the end (pages)' },
      { key: 'runS', label: 'run s', meaning: 'simulated seconds until both VMs finished' },
    ],
    rows,
    expected: 'ballooning costs the guests far less: no hypervisor swapping and no stalls, where swapping alone stalls a on the swap-ins of its hot pages.',
    notes: [
      `machine ${m.machinePages} pages (${(m.machinePages * PAGE) / MiB} MiB), two shadow-paged VMs of 16 MiB (1 MiB limit), equal shares, their own swappers on`,
      ...p.levels[0].guests.map((g) => `active.s ${describeGuest(g)}${g.name === 'b' && p.levels.length > 1 ? ` (HOT ${p.levels.map((l) => l.hotOfB).join(', ')})` : ''}`),
      `ESX thresholds (6/4/2/1 %) with a floor of ${m.minFreePages} pages for high (memsched.thresholds.minFreePages; soft/hard/low scale with it), balance period 15 s, random victims, swap latency 10 ms; sharing off`,
    ],
    auditViolations: audit,
  };
}
