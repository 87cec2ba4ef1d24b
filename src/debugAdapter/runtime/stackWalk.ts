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
}

const MAX_SLOTS = 512;
const MAX_FRAMES = 32;

const VECTOR_NAMES: Record<number, string> = { 0: '#DE', 1: '#DB', 3: '#BP', 6: '#UD', 8: '#DF', 13: '#GP', 14: '#PF', 0x80: 'int 0x80' };

export function locate(dvm: DebugVm, cpu: Vcpu, address: bigint): SourceMapEntry | undefined {
  const gpa = dvm.space.gvaToGpa(cpu, address);
  return gpa < 0 ? undefined : dvm.source.entryAtLoad(gpa);
}

function frameName(dvm: DebugVm, entry: SourceMapEntry | undefined, address: bigint): string {
  const code = entry ? entry.address : Number(address);
  const l = dvm.source.labelBefore(code);
  return l ? (l.offset === 0 ? l.name : `${l.name}+0x${l.offset.toString(16)}`) : '0x' + address.toString(16);
}

export function walkStack(dvm: DebugVm, cpu: Vcpu): Frame[] {
  const rip = cpu.ripValue;
  const top = locate(dvm, cpu, rip);
  const frames: Frame[] = [{ name: frameName(dvm, top, rip), address: rip, entry: top }];
  const word = cpu.isLongMode ? 8 : 4;
  const rsp = cpu.getReg(4);
  const bytes = readStack(dvm, cpu, rsp, word);
  const slots = bytes.length / word;
  const slot = (i: number): bigint => {
    let v = 0n;
    for (let b = word - 1; b >= 0; b--) v = (v << 8n) | BigInt(bytes[i * word + b]);
    return v;
  };
  for (let i = 0; i < slots && frames.length < MAX_FRAMES; i++) {
    const v = slot(i);
    if (v === 0n) continue;
    const entry = locate(dvm, cpu, v);
    if (!entry || entry.kind !== 'insn') continue;
    const gpa = dvm.space.gvaToGpa(cpu, v);
    if (entry.loadAddress !== gpa) continue;
    const interrupted = i + 2 < slots && isSelector(slot(i + 1)) && (slot(i + 2) & 2n) !== 0n && slot(i + 2) < 0x400000n;
    const prev = dvm.source.entryEndingAt(gpa);
    const afterCall = prev !== undefined && /^call\b/i.test(prev.text);
    if (!interrupted && !afterCall) continue;
    if (interrupted) {
      const above = frames[frames.length - 1];
      const ex = cpu.lastException;
      const vec = ex && BigInt(ex.rip) === v ? VECTOR_NAMES[ex.vector] ?? `vector ${ex.vector}` : 'interrupt';
      above.name = `${above.name} [${vec} handler]`;
    }
    frames.push({ name: frameName(dvm, entry, v), address: v, entry });
    if (interrupted) i += 2;
  }
  return frames;
}

function isSelector(v: bigint): boolean {
  return v > 0n && v < 0x100n && (v & 4n) === 0n;
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
