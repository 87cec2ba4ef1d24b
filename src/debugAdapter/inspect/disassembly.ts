// The Disassembly view's data: instructions decoded from a vCPU's guest-virtual space (read
// with probe translations), each with its bytes, text, the label at its address and its source
// line — found by translating gva → gpa and looking the load address up in the source map, so
// two programs at the same virtual address still map to the right lines. Unreadable memory
// comes back as entries marked unreadable, one per byte, never decoded from zeros.
import { decode, MAX_INSN_LENGTH } from '../../engine/isa/encoding';
import { formatInsn } from '../../engine/isa/disassemble';
import { lookupLoadAddress } from '../../engine/isa/assembler';
import type { InspectTarget, InspectedVm } from './target';
import { readMemoryRef } from './memory';
import { gvaRef } from './memoryRef';
import { probeTranslation } from './translation';

export interface DisassembledInstruction {
  address: bigint;
  memoryReference: string;
  /** Hex bytes separated by spaces ('' when unreadable). */
  bytes: string;
  length: number;
  text: string;
  valid: boolean;
  unreadable: boolean;
  /** The label at this address, if any. */
  symbol?: string;
  source?: { file: string; line: number; column: number };
}

/** One instruction (or one invalid/unreadable byte) at gva `address`. */
export function instructionAt(t: InspectTarget, v: InspectedVm, vcpu: number, address: bigint, labels?: Map<number, string>): DisassembledInstruction {
  const a = BigInt.asUintN(64, address);
  const ref = gvaRef(v.id, vcpu, a);
  const r = readMemoryRef(t, { space: 'gva', vm: v.id, vcpu, address: a }, 0, MAX_INSN_LENGTH);
  const avail = r.unreadable.length ? r.unreadable[0].offset : r.bytes.length;
  const base: Pick<DisassembledInstruction, 'address' | 'memoryReference'> = { address: a, memoryReference: ref };
  const symbol = labels?.get(Number(a));
  if (avail === 0) return { ...base, bytes: '', length: 1, text: '??', valid: false, unreadable: true, symbol };
  const d = decode(r.bytes, 0, avail);
  const hexb = (n: number): string => Array.from(r.bytes.subarray(0, n), (x) => x.toString(16).padStart(2, '0')).join(' ');
  const source = sourceOf(t, v, vcpu, a);
  if (typeof d === 'string') return { ...base, bytes: hexb(1), length: 1, text: `.byte 0x${r.bytes[0].toString(16)}`, valid: false, unreadable: false, symbol, source };
  const text = formatInsn(d, Number(a), (x) => labels?.get(x));
  return { ...base, bytes: hexb(d.length), length: d.length, text, valid: true, unreadable: false, symbol, source };
}

function sourceOf(t: InspectTarget, v: InspectedVm, vcpu: number, a: bigint): DisassembledInstruction['source'] {
  if (!v.program) return undefined;
  const p = probeTranslation(t, v, vcpu, a, 'fetch');
  const gpa = p.gpa;
  if (gpa === null) return undefined;
  const e = lookupLoadAddress(v.program, gpa);
  return e ? { file: e.file, line: e.line, column: e.column } : undefined;
}

function labelMap(v: InspectedVm): Map<number, string> {
  const m = new Map<number, string>();
  for (const [name, addr] of v.program?.labels ?? []) if (!m.has(addr)) m.set(addr, name);
  return m;
}

/**
 * DAP's disassemble: `count` instructions starting `instructionOffset` instructions from gva
 * `start` (negative: before it). Going backwards in a variable-length encoding, it looks for
 * the earliest start point whose forward decoding lands exactly on `start`.
 */
export function disassemble(t: InspectTarget, v: InspectedVm, vcpu: number, start: bigint, instructionOffset: number, count: number): DisassembledInstruction[] {
  const labels = labelMap(v);
  const out: DisassembledInstruction[] = [];
  let from = BigInt.asUintN(64, start);
  if (instructionOffset < 0) {
    const before = backwards(t, v, vcpu, from, -instructionOffset, labels);
    out.push(...before.slice(0, count));
    if (out.length === count) return out;
    count -= out.length;
  } else {
    for (let i = 0; i < instructionOffset; i++) from += BigInt(instructionAt(t, v, vcpu, from, labels).length);
  }
  for (let i = 0; i < count; i++) {
    const ins = instructionAt(t, v, vcpu, from, labels);
    out.push(ins);
    from += BigInt(ins.length);
  }
  return out;
}

function backwards(t: InspectTarget, v: InspectedVm, vcpu: number, start: bigint, n: number, labels: Map<number, string>): DisassembledInstruction[] {
  const span = BigInt(n * MAX_INSN_LENGTH);
  const lowest = start > span ? start - span : 0n;
  for (let b = lowest; b < start; b++) {
    const seq: DisassembledInstruction[] = [];
    let a = b;
    while (a < start) {
      const ins = instructionAt(t, v, vcpu, a, labels);
      if (!ins.valid) break;
      seq.push(ins);
      a += BigInt(ins.length);
    }
    if (a === start && seq.length >= n) return seq.slice(seq.length - n);
  }
  // No clean sync point: one entry per byte, so addresses still line up with start.
  const out: DisassembledInstruction[] = [];
  for (let i = n; i >= 1; i--) {
    const a = start - BigInt(i);
    out.push(a < 0n ? { address: 0n, memoryReference: gvaRef(v.id, vcpu, 0), bytes: '', length: 1, text: '??', valid: false, unreadable: true } : instructionAt(t, v, vcpu, a, labels));
  }
  return out.map((x) => (x.length > 1 ? { ...x, length: 1, valid: false, text: `.byte 0x${x.bytes.slice(0, 2)}`, bytes: x.bytes.slice(0, 2) } : x));
}
