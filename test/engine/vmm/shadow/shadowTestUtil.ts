// Helpers for the shadow-mode tests: assemble examples, run a program in a mode while
// collecting the guest-visible trace, compare guest memory, and step with the audit on.
import { readFileSync, readdirSync } from 'node:fs';
import { parseModes } from '../../../examples/expectations';
import { join } from 'node:path';
import { EXAMPLES, assembleExample as assembleWith } from '../../../support/runAsm';
import type { LoadedProgram } from '../../../../src/engine/runner';
import { createNativeVm } from '../../../../src/engine/nativeVm';
import { Machine } from '../../../../src/engine/machine/machine';
import { createVirtualVm } from '../../../../src/engine/vmm/virtualVm';
import type { VirtualVmOptions } from '../../../../src/engine/vmm/virtualVm';
import type { Monitor } from '../../../../src/engine/vmm/monitor';
import { asShadowInstance } from '../../../../src/engine/vmm/shadow/shadowMode';
import type { ShadowInstance } from '../../../../src/engine/vmm/shadow/shadowMode';
import type { EngineEvent } from '../../../../src/engine/events';
import type { Vm } from '../../../../src/engine/vm';
import { PAGE_SIZE } from '../../../../src/engine/memory/frame';
import { DEFAULT_TLB_CONFIG } from '../../../../src/engine/mmu/tlb';

export { EXAMPLES };

/** The examples that declare shadow mode among theirs (`; modes:`, default native shadow nested). */
export function exampleFiles(): string[] {
  return readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.s') && parseModes(readFileSync(join(EXAMPLES, f), 'utf8')).includes('shadow'))
    .sort();
}

export function assembleExample(file: string, paging: 32 | 64): LoadedProgram {
  return assembleWith(file, { PAGING: BigInt(paging) });
}

/** What the guest can observe, plus what the VMM did. */
export interface Observed {
  vm: Vm;
  machine: Machine | null;
  monitor: Monitor | null;
  shadow: ShadowInstance | undefined;
  console: string;
  exitCode: number | undefined;
  stopReasons: string[];
  /** Exceptions delivered, with error code and (for #PF) CR2, in order. */
  exceptions: string[];
  events: EngineEvent[];
  audits: string[];
  steps: number;
}

export interface ObserveOptions {
  mode: 'native' | 'shadow';
  modeOptions?: VirtualVmOptions['modeOptions'];
  tlb?: VirtualVmOptions['tlb'];
  /** Run the MMU audit after every instruction (slow: small programs only). */
  auditEachStep?: boolean;
  maxSteps?: number;
}

/** Runs a program to the end in one mode, recording the guest-visible trace and events. */
export function observe(program: LoadedProgram, options: ObserveOptions): Observed {
  const { vm, machine, monitor, shadow: instance } = start(program, options);
  const events: EngineEvent[] = [];
  vm.bus.on('*', (e) => events.push(e));
  const exceptions: string[] = [];
  vm.bus.on('exception', (e) => {
    const cr2 = e.vector === 14 ? ` cr2=${vm.vcpus[e.vcpu].cr2.toString(16)}` : '';
    exceptions.push(`#${e.vector} err=${e.errorCode ?? '-'} rip=${e.rip.toString(16)}${cr2}`);
  });
  const audits: string[] = [];
  const max = options.maxSteps ?? 2_000_000;
  let steps = 0;
  if (options.auditEachStep && instance) {
    while (!vm.stopped && steps < max) {
      steps += vm.run(1).executed || 1;
      for (const p of instance.audit?.() ?? []) if (audits.length < 10) audits.push(`step ${steps}: ${p}`);
    }
  } else {
    while (!vm.stopped && vm.icount < max) vm.run(Math.min(100_000, max - vm.icount));
  }
  vm.devices.flushLine();
  return {
    vm, machine, monitor, shadow: instance, console: vm.devices.console, exitCode: vm.devices.exitCode,
    stopReasons: vm.vcpus.map((c) => c.stopReason), exceptions, events, audits, steps,
  };
}

/** A loaded VM in native mode, or in shadow mode on a fresh 128 MiB machine (with its mode instance). */
export function start(program: LoadedProgram, options: ObserveOptions): { vm: Vm; machine: Machine | null; monitor: Monitor | null; shadow: ShadowInstance | undefined } {
  const entry = program.entry ?? program.segments[0]?.address ?? 0;
  if (options.mode === 'native') {
    const { vm } = createNativeVm({ tlb: options.tlb });
    vm.load(program.segments, entry);
    return { vm, machine: null, monitor: null, shadow: undefined };
  }
  const machine = new Machine({ memoryBytes: 128 * 1024 * 1024, tlb: { ...DEFAULT_TLB_CONFIG, ...options.tlb } });
  const v = createVirtualVm(machine, 'shadow', { modeOptions: options.modeOptions, tlb: options.tlb });
  v.vm.load(program.segments, entry);
  const shadow = asShadowInstance(v.instance);
  if (!shadow) throw new Error('not a shadow instance');
  return { vm: v.vm, machine, monitor: v.monitor, shadow };
}

/** Guest-physical pages that differ between two VMs (native vs shadow), by page number. */
export function differingPages(a: Vm, b: Vm): number[] {
  const out: number[] = [];
  const pages = Math.min(a.mem.size, b.mem.size) / PAGE_SIZE;
  for (let p = 0; p < pages; p++) {
    const x = a.mem.readU(p * PAGE_SIZE, 4);
    const y = b.mem.readU(p * PAGE_SIZE, 4);
    if (x !== y) {
      out.push(p);
      continue;
    }
    if (!touched(a, p) && !touched(b, p)) continue;
    const ba = a.mem.readBytes(p * PAGE_SIZE, PAGE_SIZE);
    const bb = b.mem.readBytes(p * PAGE_SIZE, PAGE_SIZE);
    for (let i = 0; i < PAGE_SIZE; i++) {
      if (ba[i] !== bb[i]) {
        out.push(p);
        break;
      }
    }
  }
  return out;
}

function touched(vm: Vm, page: number): boolean {
  const m = vm.mem as unknown as { peekFrame?: (n: number) => unknown; p2m?: { lookup(n: number): number } };
  if (m.p2m) return m.p2m.lookup(page) >= 0;
  return m.peekFrame ? m.peekFrame(page) !== undefined : true;
}

export { asShadowInstance };
