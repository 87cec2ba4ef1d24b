// Runs a loaded program headless to the end (or a step bound) and summarises what happened:
// the job of `vmem run`, of the example tests and of the benchmark.
import type { EngineEvent, EventKind } from './events';
import { EVENT_KINDS } from './events';
import { createNativeVm, NativeVmOptions } from './nativeVm';
import type { Segment } from './program';
import { Statistics, StatisticsSnapshot } from './statistics';
import type { MemoryMode, Vm } from './vm';
import { Machine } from './machine/machine';
import { DEFAULT_TLB_CONFIG } from './mmu/tlb';
import { createVirtualVm } from './vmm/virtualVm';
import type { VirtualVmOptions } from './vmm/virtualVm';
import type { Monitor } from './vmm/monitor';
import { auditMachine } from './vmm/audit';
import { attachGuestDevices } from './memory/overcommit/guestDevices';
import type { GuestDeviceOptions, GuestDevices } from './memory/overcommit/guestDevices';
import { BalloonDevice } from './memory/overcommit/balloon/balloonDevice';
import type { BalloonCounters } from './memory/overcommit/balloon/balloonDevice';
import { GuestDisk } from './memory/overcommit/guest/guestDisk';
import type { GuestDiskCounters } from './memory/overcommit/guest/guestDisk';

export type ExitReason = 'halted' | 'shutdown' | 'triple-fault' | 'max-steps' | 'error';

export interface RunOptions extends NativeVmOptions {
  mode?: MemoryMode;
  /** Per-mode options (shadow sync, EPT page size, ...). */
  modeOptions?: VirtualVmOptions['modeOptions'];
  /** Machine memory for the hypervisor's modes (default: twice the guest's, at least 64 MiB). */
  machineBytes?: number;
  /** Upper bound on instructions retired (all vCPUs). */
  maxSteps?: number;
  /** Receives every engine event (tlb-miss included) — for --trace. */
  trace?: (e: EngineEvent) => void;
  /**
   * Run the MMU audit (vmm/audit.ts) during the run: the first violated invariant stops it with
   * reason 'error' and the violations in the message. No effect in native mode (no hypervisor).
   */
  audit?: boolean;
  /** Instructions between audits (default 1: after every instruction). */
  auditEvery?: number;
  /** The balloon and the guest disk (both attached unless false; docs/overcommit/balloon.md). */
  devices?: GuestDeviceOptions;
}

export interface RunSummary extends StatisticsSnapshot {
  mode: MemoryMode;
  exit: { reason: ExitReason; message: string; status: number | null; ok: boolean };
  console: string;
  vcpus: number;
  /** What the overcommitment devices did, for those the run used (a target was set, the disk was read or written). */
  devices?: {
    balloon?: { size: number; target: number } & BalloonCounters;
    guestDisk?: GuestDiskCounters;
  };
}

export interface LoadedProgram {
  segments: readonly Segment[];
  entry: number | undefined;
}

export const DEFAULT_MAX_STEPS = 50_000_000;

export interface StartedProgram {
  vm: Vm;
  stats: Statistics;
  /** The host, for the hypervisor's modes (null in native mode). */
  machine: Machine | null;
  monitor: Monitor | null;
  /** The VM's balloon and guest disk. */
  devices: GuestDevices;
}

export function startProgram(program: LoadedProgram, options: RunOptions = {}): StartedProgram {
  const mode = options.mode ?? 'native';
  let vm: Vm;
  let machine: Machine | null = null;
  let monitor: Monitor | null = null;
  let modeStats: (() => Record<string, number>) | null = null;
  let devices: GuestDevices;
  if (mode === 'native') {
    vm = createNativeVm(options).vm;
    devices = attachGuestDevices(vm, null, options.devices);
  }
  else {
    const guestBytes = options.memoryBytes ?? 64 * 1024 * 1024;
    machine = new Machine({
      memoryBytes: options.machineBytes ?? Math.max(2 * guestBytes, 64 * 1024 * 1024),
      tlb: { ...DEFAULT_TLB_CONFIG, ...options.tlb },
    });
    const v = createVirtualVm(machine, mode, options);
    vm = v.vm;
    monitor = v.monitor;
    const inst = v.instance;
    if (inst.stats) modeStats = () => inst.stats!();
    devices = attachGuestDevices(vm, { machine, p2m: v.p2m }, options.devices);
  }
  const entry = program.entry ?? program.segments[0]?.address ?? 0;
  vm.load(program.segments, entry);
  const stats = new Statistics(vm, monitor, modeStats);
  return { vm, stats, machine, monitor, devices };
}

export function runProgram(program: LoadedProgram, options: RunOptions = {}): RunSummary {
  return runStarted(startProgram(program, options), options);
}

/** Runs a started program to the end (or the step bound); the caller can still inspect its VM. */
export function runStarted(started: StartedProgram, options: RunOptions = {}): RunSummary {
  const { vm, stats, machine } = started;
  const disposers: (() => void)[] = [];
  if (options.trace) {
    const t = options.trace;
    for (const k of EVENT_KINDS as EventKind[]) disposers.push(vm.bus.on(k, t));
  }
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  let engineError: string | undefined;
  try {
    if (options.audit && machine) engineError = runAudited(vm, machine, maxSteps, options.auditEvery ?? 1);
    else while (vm.icount < maxSteps && !vm.stopped) vm.run(Math.min(1_000_000, maxSteps - vm.icount));
  } catch (e) {
    engineError = `engine error: ${e instanceof Error ? e.message : String(e)}`;
  }
  disposers.forEach((d) => d());
  return summarize(vm, stats, engineError);
}

/** Runs with the MMU audit every `every` instructions; the first violations, in words, or undefined. */
function runAudited(vm: Vm, machine: Machine, maxSteps: number, every: number): string | undefined {
  const step = Math.max(1, Math.floor(every));
  let violations = auditMachine(machine);
  while (violations.length === 0 && vm.icount < maxSteps && !vm.stopped) {
    vm.run(Math.min(step, maxSteps - vm.icount));
    violations = auditMachine(machine);
  }
  if (violations.length === 0) return undefined;
  return `MMU audit failed after ${vm.icount} instructions (rip 0x${vm.vcpus[0].ripValue.toString(16)}): ${violations.join('; ')}`;
}

/** How a VM's run ended, in the summary's terms. */
export function summarize(vm: Vm, stats: Statistics, engineError?: string): RunSummary {
  vm.devices.flushLine();
  let reason: ExitReason = 'max-steps';
  let message = `stopped after ${vm.icount} instructions (the step bound) without the guest halting`;
  const status = vm.devices.exitCode ?? null;
  if (engineError !== undefined) {
    reason = 'error';
    message = engineError;
  } else if (vm.stopped) {
    const failed = vm.vcpus.find((c) => c.stopKind === 'error');
    const triple = vm.vcpus.find((c) => c.stopKind === 'triple-fault');
    if (failed) {
      reason = 'error';
      message = `vCPU ${failed.index}: ${failed.stopReason}`;
    } else if (triple) {
      reason = 'triple-fault';
      message = `vCPU ${triple.index}: ${triple.stopReason}`;
    } else if (status !== null) {
      reason = 'shutdown';
      message = `guest exited with status ${status}`;
    } else {
      reason = 'halted';
      message = `vCPU 0 halted (${vm.vcpus[0].stopReason})`;
    }
  }
  const ok = reason === 'halted' || (reason === 'shutdown' && status === 0);
  return { mode: vm.mode, exit: { reason, message, status, ok }, console: vm.devices.console, vcpus: vm.vcpus.length, ...stats.snapshot(), devices: deviceSummary(vm) };
}

function deviceSummary(vm: Vm): RunSummary['devices'] {
  const out: NonNullable<RunSummary['devices']> = {};
  const b = vm.devices.find(BalloonDevice);
  if (b && (b.target > 0 || b.counters.requests > 0)) out.balloon = { size: b.size, target: b.target, ...b.counters };
  const d = vm.devices.find(GuestDisk);
  if (d && d.counters.reads + d.counters.writes + d.counters.errors > 0) out.guestDisk = { ...d.counters };
  return out.balloon || out.guestDisk ? out : undefined;
}

/** An event as JSON (bigints as hex strings) for traces. */
export function eventToJson(e: EngineEvent): string {
  return JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v));
}
