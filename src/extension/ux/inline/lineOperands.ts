// What one line of guest assembly touches, for inline values: the registers it names and its
// memory operands with the address expression inside the brackets. Parsed by the assembler's own
// statement parser (so `qword ptr [rbx + rcx*8 + table]` means exactly what it means to the
// assembler); a line that does not parse as an instruction touches nothing.
import { parseStatement } from '../../../engine/isa/assembler/statement';
import type { Operand } from '../../../engine/isa/assembler/operands';
import { tokenize } from '../../../engine/isa/assembler/lexer';
import { lookupRegister } from '../../../engine/isa/registers';

/** Columns are 0-based, `end` exclusive (VS Code's Range convention). */
export interface RegisterUse {
  name: string;
  start: number;
  end: number;
}

export type MemoryAccess = 'read' | 'write';

export interface MemoryUse {
  /** The operand as written, e.g. `qword [rbx+8]`. */
  text: string;
  /** The address expression inside the brackets, e.g. `rbx+8` (the debugger's expression language reads it). */
  address: string;
  /** What the instruction does at that address; `none` for lea / invlpg (an address, no access). */
  access: MemoryAccess | 'none';
  start: number;
  end: number;
}

export interface LineOperands {
  mnemonic: string;
  registers: RegisterUse[];
  memory: MemoryUse[];
}

/** Instructions whose first operand is only read (compares, tests, stores to ports). */
const READS_DESTINATION = new Set(['cmp', 'test', 'push', 'out', 'bt']);
/** Instructions whose memory operand is an address, not an access. */
const ADDRESS_ONLY = new Set(['lea', 'invlpg']);

function accessOf(mnemonic: string, index: number, count: number): MemoryUse['access'] {
  if (ADDRESS_ONLY.has(mnemonic)) return 'none';
  if (index === 0 && count > 1 && !READS_DESTINATION.has(mnemonic)) return 'write';
  if (index === 0 && count === 1 && (mnemonic === 'pop' || mnemonic.startsWith('set') || mnemonic === 'inc' || mnemonic === 'dec' || mnemonic === 'not' || mnemonic === 'neg')) return 'write';
  return 'read';
}

/** Register names inside a column range of the line, in order, each once. */
function registersIn(text: string, from: number, to: number): RegisterUse[] {
  const out: RegisterUse[] = [];
  for (const t of tokenize(text).tokens) {
    if (t.kind !== 'ident' || t.col - 1 < from || t.end - 1 > to) continue;
    if (lookupRegister(t.text) && !out.some((r) => r.name === t.text.toLowerCase())) out.push({ name: t.text.toLowerCase(), start: t.col - 1, end: t.end - 1 });
  }
  return out;
}

function memoryUse(text: string, op: Extract<Operand, { kind: 'mem' }>, access: MemoryUse['access']): MemoryUse {
  const start = op.col - 1;
  const end = op.end - 1;
  const written = text.slice(start, end);
  const open = written.indexOf('[');
  const address = written.slice(open + 1, written.length - 1).trim();
  return { text: written, address, access, start, end };
}

export function lineOperands(text: string): LineOperands | undefined {
  const st = parseStatement({ file: '', line: 1, text });
  if (st.body.kind !== 'insn') return undefined;
  const { mnemonic, operands } = st.body;
  const memory: MemoryUse[] = [];
  operands.forEach((op, i) => {
    if (op.kind === 'mem') memory.push(memoryUse(text, op, accessOf(mnemonic, i, operands.length)));
  });
  const first = operands[0];
  const last = operands[operands.length - 1];
  const registers = first && last ? registersIn(text, first.col - 1, last.end - 1) : [];
  return { mnemonic, registers, memory };
}
