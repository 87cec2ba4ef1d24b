// Small guest programs for the inspection tests, run in any mode and left stopped for
// inspection: an identity map of the low 4 MiB (8 MiB for 32-bit) in 4 KiB pages, then
// gva 0x80000 remapped to gpa 0x50000, gva 0x81000 unmapped, and a marker stored through 0x80000.
import { IDT_PROLOGUE, assembleOk } from '../../support/runAsm';
import { startProgram } from '../../../src/engine/runner';
import type { MemoryMode } from '../../../src/engine/vm';
import { createInspectTarget } from '../../../src/debugAdapter/inspect/target';
import type { InspectTarget, InspectedVm } from '../../../src/debugAdapter/inspect/target';
import type { AssembleResult } from '../../../src/engine/isa/assembler';

export type Format = '4level' | '32bit';
export const FORMATS: Format[] = ['4level', '32bit'];
export const MODES: MemoryMode[] = ['native', 'shadow', 'nested'];

export const REMAPPED = 0x80000;
export const REMAPPED_GPA = 0x50000;
export const UNMAPPED = 0x81000;
export const MARKER = 0x1122334455667788n;

export function program(f: Format, body = ''): string {
  const es = f === '32bit' ? 4 : 8;
  const setup = f === '4level' ? `
    mov qword [PML4], PDPT | 7
    mov qword [PDPT], PD | 7
    mov qword [PD], PT0 | 7
    mov qword [PD + 8], PT1 | 7
    mov rax, 0x20
    mov cr4, rax
    mov rax, PML4
    mov cr3, rax
    mov ecx, 0xC0000080
    mov eax, 0x100
    xor edx, edx
    wrmsr` : `
    mov dword [PD], PT0 | 7
    mov dword [PD + 4], PT1 | 7
    mov rax, PD
    mov cr3, rax`;
  return `${IDT_PROLOGUE}
.equ PML4, 0x10000
.equ PDPT, 0x11000
.equ PD,   0x12000
.equ PT0,  0x13000
.equ PT1,  0x14000
.org 0x1000
_start:
    mov rsp, 0x9000
    xor rcx, rcx
.fill:
    mov rax, rcx
    shl rax, 12
    or rax, 3
    mov [PT0 + rcx*${es}], ${es === 4 ? 'eax' : 'rax'}
    add rcx, 1
    cmp rcx, ${8192 / es}
    jne .fill
    mov ${es === 4 ? 'dword' : 'qword'} [PT0 + 0x80*${es}], ${REMAPPED_GPA} | 3
    mov ${es === 4 ? 'dword' : 'qword'} [PT0 + 0x81*${es}], 0
${setup}
    mov rax, 0x80010011
    mov cr0, rax
    mov rax, ${MARKER}
    mov [${REMAPPED}], rax
    mov rbx, [${REMAPPED}]
marker_done:
${body}
    hlt
`;
}

export interface Fixture {
  target: InspectTarget;
  v: InspectedVm;
  program: AssembleResult;
}

/** Assembles and runs to the end (hlt), with the program attached for symbols and source lines. */
export function runFixture(src: string, mode: MemoryMode, maxSteps = 100_000): Fixture {
  const prog = assembleOk(src);
  const s = startProgram(prog, { mode, memoryBytes: 16 * 1024 * 1024 });
  while (!s.vm.stopped && s.vm.icount < maxSteps) s.vm.run(maxSteps - s.vm.icount);
  const target = createInspectTarget(s.machine, [{ vm: s.vm, stats: s.stats, program: prog, monitor: s.monitor }]);
  return { target, v: target.vms[0], program: prog };
}

/** Runs until rip reaches a label (breakpoint-free: single steps). */
export function runToLabel(src: string, mode: MemoryMode, label: string, maxSteps = 100_000): Fixture {
  const prog = assembleOk(src);
  const s = startProgram(prog, { mode, memoryBytes: 16 * 1024 * 1024 });
  const at = BigInt(prog.labels.get(label) ?? -1);
  while (!s.vm.stopped && s.vm.icount < maxSteps && s.vm.vcpus[0].ripValue !== at) s.vm.run(1);
  const target = createInspectTarget(s.machine, [{ vm: s.vm, stats: s.stats, program: prog, monitor: s.monitor }]);
  return { target, v: target.vms[0], program: prog };
}
