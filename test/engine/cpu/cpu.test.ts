// The vCPU run on real guest code: arithmetic, stack, exceptions through the IDT, user mode,
// the timer, paging faults and self-modifying code. Each program exits through port 0xF4
// with a status the test checks (0 = every in-guest check passed).
import { strict as assert } from 'node:assert';
import { IDT_PROLOGUE, PAGING32_MACROS, runAsm } from '../../support/runAsm';

const EXIT = (status: number | string): string => `mov eax, ${status}\n    out 0xf4, al`;

/** Kernel stack for CPL 3 → 0 at 0x7000 (RSP0), then iretq to `target` at CPL 3 with its stack at 0x6000. */
const ENTER_USER = `
.macro enter_user target
    mov ecx, 0x40000100
    mov eax, 0x7000
    xor edx, edx
    wrmsr
    push 0x23
    push 0x6000
    push 0x202
    push 0x1b
    push \\target
    iretq
.endm
`;

/** A kernel skeleton: stack, IDT with `handlers` (vector → label, attr), lidt, then `body`. */
function kernel(body: string, handlers: [number, string, number][], extra = ''): string {
  return `${IDT_PROLOGUE}${PAGING32_MACROS}${ENTER_USER}
.org 0x1000
_start:
    mov rsp, 0x9000
${handlers.map(([v, h, a]) => `    gate ${v}, ${h}, ${a}`).join('\n')}
    lidt [idtr]
${body}
${extra}
.align 8
idtr:
    .word 256*16 - 1
    .qword IDT
`;
}

describe('vCPU', () => {
  it('computes, calls and returns (factorial 10 through the stack)', () => {
    const s = runAsm(`
.org 0x1000
_start:
    mov rsp, 0x8000
    mov rdi, 10
    call fact
    cmp rax, 3628800
    jne bad
    ${EXIT(0)}
bad:
    ${EXIT(1)}
fact:
    cmp rdi, 1
    jbe .one
    push rdi
    dec rdi
    call fact
    pop rdi
    imul rax, rdi
    ret
.one:
    mov rax, 1
    ret
`);
    assert.equal(s.exit.reason, 'shutdown');
    assert.equal(s.exit.status, 0);
  });

  it('handles sized loads, stores, movzx/movsx and 64-bit immediates', () => {
    const s = runAsm(`
.org 0x1000
_start:
    mov rax, 0x1122334455667788
    mov [0x5000], rax
    movzx ecx, byte [0x5000]
    cmp rcx, 0x88
    jne bad
    movsx rdx, byte [0x5000]
    cmp rdx, -0x78
    jne bad
    mov ebx, dword [0x5004]
    cmp rbx, 0x11223344
    jne bad
    mov word [0x5000], 0xbeef
    mov rax, [0x5000]
    mov rdx, 0x112233445566beef
    cmp rax, rdx
    jne bad
    mov eax, -1
    shr rax, 32
    jnz bad
    ${EXIT(0)}
bad:
    ${EXIT(1)}
`);
    assert.equal(s.exit.status, 0, s.exit.message);
  });

  it('delivers #DE through the IDT with the faulting rip on the stack', () => {
    const s = runAsm(kernel(`
    xor rdx, rdx
    mov rax, 7
    xor rcx, rcx
faulting:
    div rcx
    ${EXIT(9)}
de_handler:
    mov rax, [rsp]            ; pushed rip
    mov rbx, faulting
    cmp rax, rbx
    jne bad
    cmp qword [rsp + 8], 8    ; CS
    jne bad
    ${EXIT(0)}
bad:
    ${EXIT(1)}
`, [[0, 'de_handler', 0x8e]]));
    assert.equal(s.exit.status, 0, s.exit.message);
    assert.deepEqual(s.events.filter((e) => e.kind === 'exception').map((e) => e.kind === 'exception' && e.vector), [0]);
  });

  it('enters user mode with iretq, switches to RSP0 on #GP(0) from a privileged instruction', () => {
    const s = runAsm(kernel(`
    enter_user user_code      ; RSP0 = 0x7000, user stack 0x6000
user_code:
    hlt                       ; privileged at CPL 3
gp_handler:
    cmp qword [rsp], 0        ; error code 0
    jne bad
    mov rax, user_code
    cmp [rsp + 8], rax        ; rip of the hlt
    jne bad
    cmp qword [rsp + 16], 0x1b
    jne bad
    cmp qword [rsp + 32], 0x6000   ; user rsp
    jne bad
    lea rax, [rsp + 48]
    cmp rax, 0x7000           ; the frame sits at the top of RSP0's stack
    jne bad
    ${EXIT(0)}
bad:
    ${EXIT(1)}
`, [[13, 'gp_handler', 0x8e]]));
    assert.equal(s.exit.status, 0, s.exit.message);
  });

  it('int 0x80 reaches a DPL-3 gate from user mode; a DPL-0 gate gives #GP(vector*8+2)', () => {
    const s = runAsm(kernel(`
    enter_user user_code
user_code:
    mov rbx, 42
    int 0x80                  ; allowed: DPL 3
    int 0x81                  ; DPL 0: #GP
syscall:
    cmp rbx, 42
    jne bad
    iretq
gp_handler:
    cmp qword [rsp], 0x81*8 + 2
    jne bad
    ${EXIT(0)}
bad:
    ${EXIT(1)}
`, [[0x80, 'syscall', 0xee], [0x81, 'syscall', 0x8e], [13, 'gp_handler', 0x8e]]));
    assert.equal(s.exit.status, 0, s.exit.message);
    assert.equal(s.interrupts.software, 2);
  });

  it('the timer interrupts only with IF=1 and wakes hlt', () => {
    const s = runAsm(kernel(`
    mov ecx, 0x40000101       ; timer period
    mov eax, 50
    xor edx, edx
    wrmsr
    xor r12, r12
    mov rcx, 1000
.spin:                        ; IF=0: no ticks here
    dec rcx
    jnz .spin
    cmp r12, 0
    jne bad
    sti
.wait:
    hlt
    cmp r12, 5
    jb .wait
    ${EXIT(0)}
tick:
    inc r12
    iretq
bad:
    ${EXIT(1)}
`, [[32, 'tick', 0x8e]]));
    assert.equal(s.exit.status, 0, s.exit.message);
    assert.ok(s.interrupts.timer >= 5, `timer ${s.interrupts.timer}`);
  });

  it('a fault with no IDT ends the VM in a triple fault with the chain stated', () => {
    const s = runAsm(`
.org 0x1000
_start:
    mov rsp, 0x8000
    ud2
`);
    assert.equal(s.exit.reason, 'triple-fault');
    assert.match(s.exit.message, /#UD → #GP → #DF → #GP/);
    assert.equal(s.exit.ok, false);
  });

  it('#PF under 32-bit paging: CR2, error code, and retry after mapping', () => {
    const s = runAsm(kernel(`
    identity_map32
    mov dword [0x11000 + 0x200*4], 0        ; 0x200000 not present
    enable_paging32
    mov r12, 0
    mov dword [0x200010], 0x1234            ; faults once, then succeeds
    cmp r12, 1
    jne bad
    cmp dword [0x200010], 0x1234
    jne bad
    ${EXIT(0)}
pf_handler:
    cmp qword [rsp], 2                      ; W=1, P=0, supervisor
    jne bad
    mov rax, cr2
    cmp rax, 0x200010
    jne bad
    inc r12
    mov dword [0x11000 + 0x200*4], 0x200003 ; map it; no INVLPG needed for P 0→1
    add rsp, 8                              ; drop the error code
    iretq
bad:
    ${EXIT(1)}
`, [[14, 'pf_handler', 0x8e]]));
    assert.equal(s.exit.status, 0, s.exit.message);
    assert.equal(s.faults.pageFaults, 1);
  });

  it('self-modifying code: a store over a decoded instruction takes effect', () => {
    const s = runAsm(`
.org 0x1000
_start:
    mov rsp, 0x8000
    mov rcx, 2
again:
patch:
    mov rax, 1              ; rewritten to mov rax, 2 after the first pass
    dec rcx
    jz done
    mov byte [patch + 3], 2
    jmp again
done:
    cmp rax, 2
    jne bad
    ${EXIT(0)}
bad:
    ${EXIT(1)}
`);
    assert.equal(s.exit.status, 0, s.exit.message);
  });

  it('privileged instructions at CPL 3 all raise #GP(0)', () => {
    const privileged = ['hlt', 'cli', 'sti', 'clac', 'stac', 'rdmsr', 'wrmsr', 'invlpg [0]', 'invpcid rax, [0x5000]', 'lidt [0x5000]', 'in al, 0x60', 'out 0x80, al', 'mov cr3, rax', 'mov rax, cr0'];
    for (const insn of privileged) {
      const s = runAsm(kernel(`
    enter_user user_code
user_code:
    ${insn}
    ${EXIT(5)}
gp_handler:
    cmp qword [rsp], 0
    jne bad
    ${EXIT(0)}
bad:
    ${EXIT(1)}
`, [[13, 'gp_handler', 0x8e]]));
      assert.equal(s.exit.status, 0, `${insn}: ${s.exit.message}`);
    }
  });
});
