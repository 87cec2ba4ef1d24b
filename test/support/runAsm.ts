// Assemble guest source text (or an example file) and run it in native mode; fail the test on
// assembly errors.
import { join, resolve } from 'node:path';
import { assemble, assembleText } from '../../src/engine/isa/assembler';
import { nodeFileProvider } from '../../src/cli/nodeFileProvider';
import type { LoadedProgram } from '../../src/engine/runner';
import { runProgram, RunOptions, RunSummary, startProgram } from '../../src/engine/runner';
import type { EngineEvent } from '../../src/engine/events';

export function assembleOk(src: string): ReturnType<typeof assembleText> {
  const r = assembleText(src, 'test.s');
  if (!r.ok) throw new Error('assembly failed:\n' + r.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`).join('\n'));
  return r;
}

// out/test/support → the repository's examples/
export const EXAMPLES = resolve(__dirname, '../../../examples');

/** An example file (with its includes) assembled with `defines` (e.g. PAGING, BALLOON). */
export function assembleExample(file: string, defines: Record<string, bigint> = {}): LoadedProgram {
  const r = assemble(join(EXAMPLES, file), nodeFileProvider(), { defines });
  if (!r.ok) throw new Error(`${file} does not assemble:\n` + r.diagnostics.map((d) => `${d.file}:${d.line} ${d.message}`).join('\n'));
  return r;
}

export function runAsm(src: string, options: RunOptions = {}): RunSummary & { events: EngineEvent[] } {
  const events: EngineEvent[] = [];
  // The MMU audit is on in every engine test that runs under a hypervisor (a no-op natively).
  const s = runProgram(assembleOk(src), { maxSteps: 1_000_000, audit: true, ...options, trace: (e) => events.push(e) });
  return Object.assign(s, { events });
}

export function startAsm(src: string, options: RunOptions = {}): ReturnType<typeof startProgram> {
  return startProgram(assembleOk(src), options);
}

/** Common prologue: a stack, an IDT whose every vector jumps to `fault_<n>` handlers the test defines or to `unhandled`. */
export const IDT_PROLOGUE = `
.equ IDT, 0x3000
.macro gate vec, handler, attr
    mov rax, \\handler
    mov word [IDT + \\vec*16], ax
    mov word [IDT + \\vec*16 + 2], 8
    mov byte [IDT + \\vec*16 + 5], \\attr
    shr rax, 16
    mov word [IDT + \\vec*16 + 6], ax
    shr rax, 16
    mov dword [IDT + \\vec*16 + 8], eax
.endm
`;

/**
 * 32-bit paging for small test programs: `identity_map32` builds a page directory at 0x10000
 * whose PDE 0 points at a page table at 0x11000 identity-mapping 0–4 MiB (P|RW, supervisor);
 * `enable_paging32` loads CR3 and sets CR0.PG.
 */
export const PAGING32_MACROS = `
.macro identity_map32
    mov dword [0x10000], 0x11003
    mov rcx, 0
.fill\\@:
    mov rax, rcx
    shl rax, 12
    or rax, 3
    mov dword [0x11000 + rcx*4], eax
    inc rcx
    cmp rcx, 1024
    jne .fill\\@
.endm
.macro enable_paging32
    mov rax, 0x10000
    mov cr3, rax
    mov rax, 0x80000011
    mov cr0, rax
.endm
`;
