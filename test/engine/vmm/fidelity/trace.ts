// The guest-visible trace of a generated program in one memory mode — the fault log the
// guest's handlers wrote (vector, error code, CR2, rip per fault; rax, rflags, CR3 after every
// operation), the final registers, the console, how the run ended and the contents of the
// program's page tables and data pages (so A/D bits count) — and the first difference between
// two traces, in words.
import type { LoadedProgram, RunOptions } from '../../../../src/engine/runner';
import { runStarted, startProgram } from '../../../../src/engine/runner';
import type { MemoryMode } from '../../../../src/engine/vm';
import type { VirtualVmOptions } from '../../../../src/engine/vmm/virtualVm';
import { LOG, LOG_BYTES, LOG_ENTRY, LOGP } from '../../../support/guestGen/layout';

export interface ModeConfig {
  /** Label in reports, e.g. 'shadow/unsync'. */
  label: string;
  mode: MemoryMode;
  modeOptions?: VirtualVmOptions['modeOptions'];
}

export interface LogEntry {
  tag: bigint;
  a: bigint;
  b: bigint;
  c: bigint;
}

export interface GuestTrace {
  exit: string;
  console: string;
  log: LogEntry[];
  regs: [string, bigint][];
  pages: Map<number, Uint8Array>;
}

export interface Difference {
  /** Which part of the trace. */
  part: 'log' | 'console' | 'exit' | 'registers' | 'memory';
  /** For log differences: the operation the first differing entry belongs to. */
  opId?: number;
  text: string;
}

export const GUEST_BYTES = 16 * 1024 * 1024;
const MAX_STEPS = 400_000;

function u64(bytes: Uint8Array, off: number): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(bytes[off + i]);
  return v;
}

export function runTrace(program: LoadedProgram, cfg: ModeConfig, pages: readonly number[], extra: RunOptions = {}): GuestTrace {
  const options: RunOptions = { memoryBytes: GUEST_BYTES, machineBytes: 2 * GUEST_BYTES, maxSteps: MAX_STEPS, mode: cfg.mode, modeOptions: cfg.modeOptions, ...extra };
  const started = startProgram(program, options);
  const summary = runStarted(started, options);
  const vm = started.vm;
  const logEnd = Math.min(Math.max(vm.mem.read32(LOGP), LOG), LOG + LOG_BYTES);
  const raw = vm.mem.readBytes(LOG, logEnd - LOG);
  const log: LogEntry[] = [];
  for (let off = 0; off + LOG_ENTRY <= raw.length; off += LOG_ENTRY) log.push({ tag: u64(raw, off), a: u64(raw, off + 8), b: u64(raw, off + 16), c: u64(raw, off + 24) });
  const s = vm.vcpus[0].snapshot();
  const regs: [string, bigint][] = [
    ...Object.entries(s.gpr),
    ['rip', s.rip], ['rflags', BigInt(s.rflags)], ['cpl', BigInt(s.cpl)], ['cr0', BigInt(s.cr0)], ['cr2', s.cr2], ['cr3', BigInt(s.cr3)],
    ['cr4', BigInt(s.cr4)], ['efer', BigInt(s.efer)], ['icount', BigInt(s.icount)],
  ];
  const mem = new Map<number, Uint8Array>();
  for (const p of pages) mem.set(p, vm.mem.readBytes(p, 4096));
  return { exit: `${summary.exit.reason}: ${summary.exit.message}`, console: summary.console, log, regs, pages: mem };
}

const hex = (v: bigint | number): string => '0x' + v.toString(16);
const VECTORS: Record<number, string> = { 0: '#DE', 6: '#UD', 8: '#DF', 13: '#GP', 14: '#PF', 17: '#AC' };

export function describeEntry(e: LogEntry | undefined): string {
  if (!e) return '(no entry)';
  const op = Number(e.tag >> 16n);
  const v = Number(e.tag & 0xffn);
  if (v === 0xff) return `op ${op} done: rax=${hex(e.a)} rflags=${hex(e.b)} cr3=${hex(e.c)}`;
  const cpl = Number((e.tag >> 8n) & 3n);
  const err = e.a === 0xffffffffffffffffn ? '' : `(error code ${hex(e.a)})`;
  return `op ${op}: ${VECTORS[v] ?? `vector ${v}`}${err} cr2=${hex(e.b)} rip=${hex(e.c)} at CPL${cpl}`;
}

const same = (x: LogEntry, y: LogEntry): boolean => x.tag === y.tag && x.a === y.a && x.b === y.b && x.c === y.c;

/** The first place two traces differ (log, then console, exit, registers, memory), or null. */
export function firstDifference(a: GuestTrace, b: GuestTrace): Difference | null {
  const n = Math.max(a.log.length, b.log.length);
  for (let i = 0; i < n; i++) {
    const x = a.log[i];
    const y = b.log[i];
    if (x && y && same(x, y)) continue;
    const opId = Number(((x ?? y) as LogEntry).tag >> 16n);
    const ended = x && y ? '' : ` (runs ended: '${a.exit}' / '${b.exit}')`;
    return { part: 'log', opId, text: `log entry ${i}: ${describeEntry(x)}  ≠  ${describeEntry(y)}${ended}` };
  }
  if (a.console !== b.console) return { part: 'console', text: `console ${JSON.stringify(a.console)} ≠ ${JSON.stringify(b.console)}` };
  if (a.exit !== b.exit) return { part: 'exit', text: `exit '${a.exit}' ≠ '${b.exit}'` };
  for (let i = 0; i < a.regs.length; i++) {
    if (a.regs[i][1] !== b.regs[i][1]) return { part: 'registers', text: `${a.regs[i][0]} ${hex(a.regs[i][1])} ≠ ${hex(b.regs[i][1])}` };
  }
  for (const [gpa, pa] of a.pages) {
    const pb = b.pages.get(gpa);
    if (!pb) continue;
    for (let off = 0; off < 4096; off++) {
      if (pa[off] === pb[off]) continue;
      const q = off & ~7;
      return { part: 'memory', text: `guest-physical ${hex(gpa + q)}: ${hex(u64(pa, q))} ≠ ${hex(u64(pb, q))}` };
    }
  }
  return null;
}
