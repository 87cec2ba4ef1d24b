// Experiment (b), Waldspurger 2002 Fig. 7: two VMs with equal shares on an overcommitted machine,
// one idle (examples/overcommit/idle.s: touches its pages once, then computes in registers) and
// one active (active.s: keeps re-writing its pages). With τ = 0 (pure shares) the scheduler
// splits memory evenly; with the idle memory tax (τ = 0.75) the idle VM's pages cost 4× and
// memory moves to the active VM, whose throughput rises (the paper: dbench +30 %).
import type { MemPolicy } from '../policy/shares';
import type { ExperimentSize, ExperimentTable, ProgramLoader } from './experimentTypes';
import { MiB, PAGE, round, runToTime } from './runToTime';

export interface IdleTaxParams {
  configs: { policy: MemPolicy; tau: number }[];
  seconds: number;
  machinePages: number;
  /** Heap pages each guest writes. */
  pages: number;
  /** Times (s) at which the allocations are read from the scheduler's history. */
  at: number[];
  seed: number;
}

export const IDLE_TAX_PARAMS: Record<ExperimentSize, IdleTaxParams> = {
  full: {
    configs: [
      { policy: 'shares', tau: 0.75 },
      { policy: 'idle-tax', tau: 0 },
      { policy: 'idle-tax', tau: 0.75 },
    ],
    seconds: 16, machinePages: 256, pages: 128, at: [2, 4, 8, 12, 16], seed: 1,
  },
  small: {
    configs: [
      { policy: 'idle-tax', tau: 0 },
      { policy: 'idle-tax', tau: 0.75 },
    ],
    seconds: 12, machinePages: 256, pages: 128, at: [4, 8, 12], seed: 1,
  },
};

export function idleTaxExperiment(load: ProgramLoader, size: ExperimentSize = 'full', p: IdleTaxParams = IDLE_TAX_PARAMS[size]): ExperimentTable {
  const rows: ExperimentTable['rows'] = [];
  const audit: string[] = [];
  const idle = load('idle.s', { PAGES: BigInt(p.pages), SPIN: 1_000_000_000n });
  const active = load('active.s', { HOT: BigInt(p.pages), COLD: 0n, ROUNDS: 1_000_000n });
  for (const c of p.configs) {
    const r = runToTime(
      {
        memoryBytes: p.machinePages * PAGE,
        quantum: 10_000,
        maxSteps: Number.MAX_SAFE_INTEGER,
        vms: [
          { name: 'idle', mode: 'shadow', memoryBytes: 16 * MiB, allocation: { maxBytes: MiB }, program: idle },
          { name: 'active', mode: 'shadow', memoryBytes: 16 * MiB, allocation: { maxBytes: MiB }, program: active },
        ],
        memsched: { policy: c.policy, tau: c.tau, samplePeriodS: 1, balancePeriodS: 1, seed: p.seed, sharing: { enabled: false, scanPagesPerSecPerVm: 0, scanPagesPerSecTotal: 0 } },
      },
      p.seconds,
    );
    const label = c.policy === 'shares' ? 'shares' : `idle-tax τ=${c.tau}`;
    audit.push(...r.audit.map((v) => `b, ${label}: ${v}`));
    const [vi, va] = r.vms;
    const series = p.at
      .map((t) => {
        let last = r.snapshot.history[0];
        for (const h of r.snapshot.history) if (h.t <= t) last = h;
        return last ? `${last.vms[0].allocated}/${last.vms[1].allocated}` : '-';
      })
      .join(' ');
    rows.push({
      config: label,
      idleAlloc: vi.oc.pages.private,
      idleTarget: vi.oc.target,
      idleWs: vi.oc.workingSet === null ? null : round(vi.oc.workingSet, 2),
      activeAlloc: va.oc.pages.private,
      activeTarget: va.oc.target,
      activeWs: va.oc.workingSet === null ? null : round(va.oc.workingSet, 2),
      activeThroughput: round(va.throughput, 3),
      series,
    });
  }
  return {
    id: 'b',
    title: '(b) The idle memory tax: one idle and one active VM, equal shares (Waldspurger 2002, Fig. 7)',
    columns: [
      { key: 'config', label: 'policy', meaning: 'memsched policy and τ (shares: τ = 0 whatever tau says)' },
      { key: 'idleAlloc', label: 'idle', meaning: 'pages the idle VM holds at the end (private machine frames)' },
      { key: 'idleTarget', label: 'target', meaning: "the scheduler's target for the idle VM" },
      { key: 'idleWs', label: 'f idle', meaning: "the idle VM's working-set estimate (sampling)" },
      { key: 'activeAlloc', label: 'active', meaning: 'pages the active VM holds at the end' },
      { key: 'activeTarget', label: 'target', meaning: "the scheduler's target for the active VM" },
      { key: 'activeWs', label: 'f active', meaning: "the active VM's working-set estimate" },
      { key: 'activeThroughput', label: 'thr active', meaning: 'active VM: instructions / (instructions + stall cycles)' },
      { key: 'series', label: `idle/active at ${p.at.join(', ')} s`, meaning: 'allocations over time, from the scheduler history' },
    ],
    rows,
    expected:
      'τ = 0 (and the shares policy) give both VMs the same target — an even split (W: both converge to 179 MB); ' +
      'τ = 0.75 moves memory from the idle VM to the active one, whose throughput rises (W: dbench +30 %).',
    notes: [
      `machine ${p.machinePages} pages (${(p.machinePages * PAGE) / MiB} MiB); each VM 16 MiB with a 1 MiB limit (max), equal shares; each guest writes ${p.pages} heap pages (~${p.pages + 16} with its kernel)`,
      `samplePeriodS 1 and balancePeriodS 1 (ESX 2: 30 s and 15 s) so that a run takes ${p.seconds} simulated s; samplePages 100; sharing off (the policy alone)`,
      'the guests have the balloon driver and their own swapper (BALLOON=1, GUEST_SWAP=1, FRAME_POOL_PAGES=160); the boot burst drives the machine to hard/low once, so some pages are swapped by the VMM early',
    ],
    auditViolations: audit,
  };
}
