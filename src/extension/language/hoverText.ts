// Hover texts (markdown) for the guest assembly: instructions, registers, bit names, numbers
// and symbols. Pure functions over the engine's tables and the generated ISA docs.
import { CONDITION_ALIASES, CONDITION_NAMES, FORM_NAMES, MNEMONICS, OP_INFO } from '../../engine/isa/opcodes';
import { hex } from '../../debugAdapter/inspect/format';
import { INSTRUCTION_DOCS } from './generated/instructionDocs';
import { ALL_FLAGS, CONTEXT_TITLES, FlagContext, FlagInfo, contextOfPrefix, decodeFlags, flagsNamed } from './flags';
import { registerInfo } from './vocabulary';
import type { Definition } from './scan';

/** Text inside a fenced code block cannot break out of it. */
function code(text: string, lang = 'vmasm'): string {
  return '```' + lang + '\n' + text.replace(/```/g, '`\u200b``') + '\n```';
}

/** Inline code that survives backticks in the text. */
function inline(text: string): string {
  const fence = text.includes('`') ? '``' : '`';
  return `${fence}${text.includes('`') ? ' ' + text + ' ' : text}${fence}`;
}

const CONDITIONS: Readonly<Record<string, [string, string]>> = {
  o: ['OF=1', 'overflow'], no: ['OF=0', 'no overflow'], b: ['CF=1', 'below (unsigned <)'], ae: ['CF=0', 'above or equal (unsigned ≥)'],
  e: ['ZF=1', 'equal / zero'], ne: ['ZF=0', 'not equal / not zero'], be: ['CF=1 or ZF=1', 'below or equal (unsigned ≤)'],
  a: ['CF=0 and ZF=0', 'above (unsigned >)'], s: ['SF=1', 'sign (negative)'], ns: ['SF=0', 'not sign'], p: ['PF=1', 'parity even'],
  np: ['PF=0', 'parity odd'], l: ['SF≠OF', 'less (signed <)'], ge: ['SF=OF', 'greater or equal (signed ≥)'],
  le: ['ZF=1 or SF≠OF', 'less or equal (signed ≤)'], g: ['ZF=0 and SF=OF', 'greater (signed >)'],
};

function sizeNames(sizes: readonly number[]): string {
  const n: Record<number, string> = { 1: 'byte', 2: 'word', 4: 'dword', 8: 'qword' };
  return sizes.map((s) => n[s]).join(', ');
}

export function instructionHover(word: string): string | undefined {
  const m = word.toLowerCase();
  const op = m === 'movabs' ? MNEMONICS.get('mov') : MNEMONICS.get(m);
  if (op === undefined) return undefined;
  const info = OP_INFO.get(op)!;
  const cc = m.startsWith('j') && m !== 'jmp' ? m.slice(1) : undefined;
  const parts: string[] = [];
  const aliasOf = info.name !== m && m !== 'movabs' ? ` (alias of ${inline(info.name)})` : '';
  parts.push(`**${m}**${aliasOf} — opcode ${inline('0x' + op.toString(16).padStart(2, '0'))}${info.privileged ? ' · **privileged** (#GP(0) at CPL 3)' : ''}`);
  if (m === 'movabs') parts.push('Forces the `r,imm64` form of `mov` (a 64-bit immediate).');
  parts.push(`Forms: ${info.forms.map((f) => inline(FORM_NAMES[f])).join(' ')} · operand sizes: ${sizeNames(info.sizes)}`);
  if (cc !== undefined && cc in CONDITION_ALIASES) {
    const primary = CONDITION_NAMES[CONDITION_ALIASES[cc]];
    const [test, meaning] = CONDITIONS[primary];
    const aliases = Object.keys(CONDITION_ALIASES).filter((a) => CONDITION_ALIASES[a] === CONDITION_ALIASES[cc] && a !== cc).map((a) => 'j' + a);
    parts.push(`Jumps if **${test}** — ${meaning}.${aliases.length ? ` Same as ${aliases.map(inline).join(', ')}.` : ''}`);
  }
  const docKey = cc !== undefined && cc in CONDITION_ALIASES ? 'jcc' : m === 'iret' ? 'iretq' : m === 'movabs' ? 'mov' : m;
  for (const row of INSTRUCTION_DOCS.filter((r) => r.mnemonics.includes(docKey))) {
    parts.push(`${row.syntax} — ${row.effect}`);
    const flags = row.flags.filter(([, v]) => v !== '');
    if (flags.length === 1 && flags[0][0] === 'flags') parts.push(`Flags: ${flags[0][1] === '—' ? 'not affected' : flags[0][1]}`);
    else if (flags.length > 0) parts.push(`Flags: ${flags.map(([k, v]) => `${k}: ${v === '—' ? 'not affected' : v}`).join(' · ')}`);
    for (const n of row.notes) parts.push(`*${n}*`);
  }
  return parts.join('\n\n');
}

const GPR_PURPOSE: Readonly<Record<string, string>> = {
  rax: 'accumulator: `mul`/`div` operand and result, `rdmsr`/`wrmsr` low half (eax); by the examples\' convention the return value and the `int 0x80` system-call number',
  rcx: 'counter: `cl` is the count of `shl`/`shr`/`sar`; `ecx` selects the MSR of `rdmsr`/`wrmsr`',
  rdx: '`mul`/`div` high half (rdx:rax), `rdmsr`/`wrmsr` high half (edx), `dx` the port of `in`/`out` with a register port',
  rbx: 'general purpose (the teaching kernel keeps the trap-frame pointer in it)',
  rsp: 'stack pointer: `push`, `pop`, `call`, `ret`, interrupts; a memory operand based on rsp faults with #SS instead of #GP',
  rbp: 'frame base pointer; a memory operand based on rbp faults with #SS instead of #GP',
  rsi: 'general purpose; by the examples\' convention the second argument',
  rdi: 'general purpose; by the examples\' convention the first argument',
};

function bitTable(context: FlagContext): string {
  const rows = ALL_FLAGS.filter((f) => f.context === context).map((f) => `| ${bitsOf(f)} | ${f.name} | ${f.meaning} |`);
  return ['| bit | name | meaning |', '|---|---|---|', ...rows].join('\n');
}

function bitsOf(f: FlagInfo): string {
  return f.width === 1 ? String(f.bit) : `${f.bit + f.width - 1}:${f.bit}`;
}

const CONTROL_PURPOSE: Readonly<Record<string, string>> = {
  cr0: 'Protection and paging control. Writing it (CPL 0) can turn paging on (PG) or change write protection (WP).',
  cr2: 'The linear address of the last page fault (written by the CPU on #PF).',
  cr3: 'The root of the page tables: bits 51:12 the physical address of the PML4 (4-level), PDPT (PAE) or page directory (32-bit); bit 3 PWT, bit 4 PCD; with CR4.PCIDE bits 11:0 are the PCID and bit 63 of a written value skips the TLB flush. Writing it switches address spaces and flushes non-global TLB entries (a CR3-write VM exit in shadow mode).',
  cr4: 'Architecture extensions: paging format (PSE, PAE, LA57), global pages (PGE), PCIDs, SMEP/SMAP.',
};

export function registerHover(word: string): string | undefined {
  const lower = word.toLowerCase();
  if (lower === 'efer') return `**EFER** — extended feature enable register, MSR 0xC0000080 (\`rdmsr\`/\`wrmsr\` with ecx = 0xc0000080)\n\n${bitTable('efer')}`;
  if (lower === 'rflags' || lower === 'eflags') return `**${lower}** — the flags register (\`pushfq\`/\`popfq\`)\n\n${bitTable('rflags')}`;
  const r = registerInfo(lower);
  if (!r) return undefined;
  if (r.kind === 'control') {
    const table = lower === 'cr0' ? bitTable('cr0') : lower === 'cr4' ? bitTable('cr4') : '';
    return [`**${lower}** — control register ${r.number}, 64-bit; \`mov ${lower}, r64\` / \`mov r64, ${lower}\` at CPL 0 only`, CONTROL_PURPOSE[lower], table].filter(Boolean).join('\n\n');
  }
  const part = r.width === 64 ? '' : ` — bits ${r.width - 1}:0 of ${inline(r.full)}${r.width === 32 ? ' (a write zero-extends into bits 63:32)' : ' (a write leaves the other bits unchanged)'}`;
  const purpose = GPR_PURPOSE[r.full] ?? 'general purpose (r8–r15)';
  return `**${lower}** — ${r.width}-bit general register, number ${r.number}${part}\n\n${purpose}`;
}

export function flagHover(word: string): string | undefined {
  const flags = flagsNamed(word);
  if (flags.length === 0) return undefined;
  return flags.map((f) => `**${f.name}** — ${CONTEXT_TITLES[f.context]} bit ${bitsOf(f)} (mask ${hex((1n << BigInt(f.bit + f.width)) - (1n << BigInt(f.bit)))})\n\n${f.meaning}`).join('\n\n---\n\n');
}

/** Page-table indices of a linear address, as the MMU's walk would use them. */
export function pageIndices(address: bigint): string {
  const a = BigInt.asUintN(64, address);
  const field = (shift: number, bits: number): bigint => (a >> BigInt(shift)) & ((1n << BigInt(bits)) - 1n);
  const rows = [
    '| paging | indices | offset |',
    '|---|---|---|',
    `| 4-level | PML4 ${field(39, 9)} · PDPT ${field(30, 9)} · PD ${field(21, 9)} · PT ${field(12, 9)} | ${hex(field(0, 12))} (2 MiB page: ${hex(field(0, 21))}) |`,
  ];
  if (a < 1n << 32n) rows.push(`| 32-bit | PD ${field(22, 10)} · PT ${field(12, 10)} | ${hex(field(0, 12))} (4 MiB page: ${hex(field(0, 22))}) |`);
  return rows.join('\n');
}

function binary(v: bigint): string {
  const bits = BigInt.asUintN(64, v).toString(2);
  return '0b' + bits.replace(/\B(?=(\d{4})+(?!\d))/g, '_');
}

function sizeText(v: bigint): string | undefined {
  const units: [bigint, string][] = [[1n << 30n, 'GiB'], [1n << 20n, 'MiB'], [1n << 10n, 'KiB']];
  for (const [u, name] of units) if (v >= u && v % u === 0n) return `${v / u} ${name}`;
  return undefined;
}

/** Whether a value is worth reading as a guest virtual address. */
export function looksLikeAddress(v: bigint, writtenInHex: boolean): boolean {
  const u = BigInt.asUintN(64, v);
  return writtenInHex && u >= 0x1000n;
}

export function valueLines(v: bigint): string {
  const u = BigInt.asUintN(64, v);
  const signed = BigInt.asIntN(64, v);
  const parts = [`${inline(hex(u))} · ${u}${signed < 0n ? ` (signed ${signed})` : ''}`];
  if (u < 1n << 32n) parts.push(inline(binary(u)));
  const size = sizeText(u);
  if (size) parts.push(size);
  return parts.join(' · ');
}

export function numberHover(literal: string, value: bigint): string {
  const isHex = /^0[xX]/.test(literal) || /^0[bB]/.test(literal);
  const lines = [`**${literal}** = ${valueLines(value)}`];
  if (/^'/.test(literal)) lines[0] = `**${literal}** — character, byte ${inline(hex(value))} · ${value}`;
  if (looksLikeAddress(value, isHex)) lines.push('As a linear address:', pageIndices(value));
  return lines.join('\n\n');
}

export interface SymbolFacts {
  definition: Definition;
  /** Path shown to the user (workspace-relative). */
  where: string;
  /** The value from the last assembly of the file's unit (a label's address), if it assembled. */
  value?: bigint;
  /** Where the label's bytes are loaded when `.phys` moved them. */
  loadAddress?: number;
  /** For a macro: its body lines. */
  body?: string[];
}

export function symbolHover(f: SymbolFacts): string {
  const d = f.definition;
  const at = `${f.where}:${d.line + 1}`;
  if (d.kind === 'macro') {
    const body = (f.body ?? []).slice(0, 12);
    const more = (f.body?.length ?? 0) > body.length ? '\n    …' : '';
    return `**macro ${d.written}** — defined at ${at}\n\n${code([d.lineText, ...body].join('\n') + more)}`;
  }
  const kind = d.kind === 'equ' ? 'constant' : d.kind === 'local' ? 'local label' : 'label';
  const lines = [`**${kind} ${d.name}**${d.inMacro ? ` (inside macro ${d.inMacro})` : ''} — defined at ${at}`, code(d.lineText)];
  if (f.value !== undefined) {
    lines.push(`Value: ${valueLines(f.value)}`);
    if (f.loadAddress !== undefined && BigInt(f.loadAddress) !== f.value) lines.push(`Loaded at guest-physical ${inline(hex(BigInt(f.loadAddress)))} (\`.phys\`)`);
    const prefix = d.name.split('_')[0];
    const ctx = d.kind === 'equ' ? contextOfPrefix(prefix) : undefined;
    const named = flagHover(d.name);
    if (named) lines.push(named);
    else if (ctx) {
      const set = decodeFlags(f.value, ctx);
      if (set.length) lines.push(`As ${CONTEXT_TITLES[ctx]} bits: ${set.map(inline).join(' ')}`);
    }
    // Labels are addresses; a constant reads as one when written in hex or from other symbols.
    const addressy = d.kind !== 'equ' || (ctx === undefined && !named && /0[xX]|[A-Za-z_]/.test(d.valueText ?? ''));
    if (addressy && looksLikeAddress(f.value, true)) lines.push('As a linear address:', pageIndices(f.value));
  } else {
    lines.push('*Value unknown: the file does not assemble yet.*');
  }
  return lines.join('\n\n');
}
