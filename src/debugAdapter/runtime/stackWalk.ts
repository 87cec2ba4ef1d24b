// Call-stack reconstruction from the guest's stack, without frame pointers: a stack slot holds a
// return address when it points right after a `call` in the program; it starts an interrupt
// frame when the slots above it look like CS and RFLAGS (rip, cs, rflags[, rsp, ss]) — the
// frame above such a slot then runs in the exception or interrupt handler.
import type { Vcpu } from '../../engine/cpu/cpu';
import type { SourceMapEntry } from '../../engine/isa/assembler';
import type { DebugVm } from './target';

export interface Frame {
  name: string;
  address: bigint;
  entry: SourceMapEntry | undefined;
  /**
   * Where this frame runs again once the frame above it returns (a ret pops its return
   * address, an iretq its interrupt frame): stepOut of the frame above stops at `address`
   * with this rsp and CPL. Absent for the top frame.
   */
  resume?: { rsp: bigint; cpl: number };
}

const MAX_SLOTS = 512;
const MAX_FRAMES = 32;

const VECTOR_NAMES: Record<number, string> = { 0: '#DE', 1: '#DB', 3: '#BP', 6: '#UD', 8: '#DF', 13: '#GP', 14: '#PF', 0x80: 'int 0x80' };

export function locate(dvm: DebugVm, cpu: Vcpu, address: bigint): SourceMapEntry | undefined {
  const gpa = dvm.space.gvaToGpa(cpu, address);
  return gpa < 0 ? undefined : dvm.source.entryAtLoad(gpa);
}

function frameName(dvm: DebugVm, entry: SourceMapEntry | undefined, address: bigint): string {
  const load = entry ? entry.loadAddress : Number(address);
  const l = dvm.source.labelBefore(load);
  return l ? (l.offset === 0 ? l.name : `${l.name}+0x${l.offset.toString(16)}`) : '0x' + address.toString(16);
}

/**
 * The frame the vCPU is in. A vCPU that has executed `hlt` (halted, or stopped for good) has its
 * rip past that instruction, often past the program's last line: it is shown at the `hlt` it
 * executed, so a stop that comes after the halt (a VMM event, a pause) still has a source line.
 */
function topFrame(dvm: DebugVm, cpu: Vcpu, rip: bigint): Frame {
  const here = locate(dvm, cpu, rip);
  if (!here && cpu.state !== 'running') {
    const gpa = dvm.space.gvaToGpa(cpu, rip);
    const hlt = gpa < 0 ? undefined : dvm.source.entryEndingAt(gpa);
    if (hlt && hlt.kind === 'insn' && /^hlt\b/i.test(hlt.text)) {
      const state = cpu.state === 'halted' ? 'halted' : `stopped: ${cpu.stopReason || cpu.stopKind || 'halted'}`;
      return { name: `${frameName(dvm, hlt, rip)} (${state})`, address: rip, entry: hlt };
    }
  }
  return { name: frameName(dvm, here, rip), address: rip, entry: here };
}

export function walkStack(dvm: DebugVm, cpu: Vcpu): Frame[] {
  const rip = cpu.ripValue;
  const frames: Frame[] = [topFrame(dvm, cpu, rip)];
  // call, push and interrupt delivery move 8-byte slots in every paging mode (docs/isa.md).
  const word = 8;
  const rsp = cpu.getReg(4);
  const bytes = readStack(dvm, cpu, rsp, word);
  const slots = bytes.length / word;
  const slot = (i: number): bigint => {
    let v = 0n;
    for (let b = word - 1; b >= 0; b--) v = (v << 8n) | BigInt(bytes[i * word + b]);
    return v;
  };
  // CPL of the frame being walked: an interrupt frame from user code switches it.
  let cpl = cpu.cpl;
  const slotAddress = (i: number): bigint => BigInt.asUintN(64, rsp + BigInt(i * word));
  for (let i = 0; i < slots && frames.length < MAX_FRAMES; i++) {
    const v = slot(i);
    if (v === 0n) continue;
    const entry = locate(dvm, cpu, v);
    if (!entry || entry.kind !== 'insn') continue;
    const gpa = dvm.space.gvaToGpa(cpu, v);
    if (entry.loadAddress !== gpa) continue;
    const interrupted = i + 4 < slots && isInterruptFrame(slot(i + 1), slot(i + 2), slot(i + 4));
    const prev = dvm.source.entryEndingAt(gpa);
    const afterCall = prev !== undefined && /^call\b/i.test(prev.text);
    if (!interrupted && !afterCall) continue;
    if (interrupted) {
      const above = frames[frames.length - 1];
      const ex = cpu.lastException;
      const vec = ex && BigInt(ex.rip) === v ? VECTOR_NAMES[ex.vector] ?? `vector ${ex.vector}` : 'interrupt';
      above.name = `${above.name} [${vec} handler]`;
    }
    let resume: { rsp: bigint; cpl: number };
    if (interrupted) {
      // rip, cs, rflags, rsp, ss: delivery always pushes the interrupted rsp (as 64-bit mode does).
      const to = Number(slot(i + 1) & 3n);
      resume = { rsp: i + 3 < slots ? slot(i + 3) : slotAddress(i + 5), cpl: to };
      cpl = to;
    } else resume = { rsp: slotAddress(i + 1), cpl };
    frames.push({ name: frameName(dvm, entry, v), address: v, entry, resume });
    if (interrupted) i += 2;
  }
  return frames;
}

function isSelector(v: bigint): boolean {
  return v > 0n && v < 0x100n && (v & 4n) === 0n;
}

/** RFLAGS bits that read as 0 (3, 5, 15, 22–63) and the one that reads as 1 (bit 1). */
const RFLAGS_ZERO = ~0x3f7fd7n & 0xffffffffffffffffn;

/**
 * cs, rflags, ss of an interrupt frame (rip, cs, rflags, rsp, ss): GDT selectors of one
 * privilege level around a well-formed RFLAGS. A return address, a pushed small number and
 * another return address above it (a recursion) must not pass for one.
 */
function isInterruptFrame(cs: bigint, rflags: bigint, ss: bigint): boolean {
  const rpl = cs & 3n;
  return isSelector(cs) && (rpl === 0n || rpl === 3n) && isSelector(ss) && (ss & 3n) === rpl && (rflags & 2n) !== 0n && (rflags & RFLAGS_ZERO) === 0n;
}

/** The stack from rsp to the end of its page and the next (the part a handler chain uses). */
function readStack(dvm: DebugVm, cpu: Vcpu, rsp: bigint, word: number): Uint8Array {
  const pageEnd = (rsp / 4096n + 1n) * 4096n;
  const want = Math.min(MAX_SLOTS * word, Number(pageEnd - rsp) + 4096);
  for (let n = want; n > 0; n -= 4096) {
    const len = Math.max(0, n - (n % word));
    const b = dvm.space.readVirtualBytes(cpu, rsp, len);
    if (b) return b;
    if (n <= 4096) {
      const rest = Number(pageEnd - rsp);
      return dvm.space.readVirtualBytes(cpu, rsp, rest - (rest % word)) ?? new Uint8Array(0);
    }
  }
  return new Uint8Array(0);
}
