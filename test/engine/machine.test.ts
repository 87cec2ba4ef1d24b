// The VM around the vCPUs: memory that costs only what is touched, the event stream's
// zero-cost promise, vCPU start-up and bounded runs.
import { strict as assert } from 'node:assert';
import { assembleOk, runAsm, startAsm } from '../support/runAsm';
import { runProgram } from '../../src/engine/runner';
import { EVENT_KINDS } from '../../src/engine/events';

const TOUCH_FAR = `
.org 0x1000
_start:
    mov rsp, 0x8000
    mov rax, 0xF0000000          ; near the top of a 4 GiB guest
    mov qword [rax], 1
    mov rbx, [rax]
    mov rcx, [0x20000000]        ; a read of an untouched page costs nothing
    mov al, 'k'
    out 0xe9, al
    hlt
`;

describe('VM', () => {
  it('guest physical memory costs only the frames written', () => {
    const s = runProgram(assembleOk(TOUCH_FAR), { memoryBytes: 4 * 1024 ** 3 });
    assert.equal(s.exit.reason, 'halted');
    // the program's own frame, the stack is unused, one data frame: 2 frames of 1 M
    assert.equal(s.memory.touchedFrames, 2);
  });

  it('reads above the memory size see all ones; writes there are dropped', () => {
    const s = runAsm(`
.org 0x1000
_start:
    mov rax, 0x10000000          ; 256 MiB, beyond a 16 MiB guest
    mov qword [rax], 5
    mov rbx, [rax]
    cmp rbx, -1
    jne bad
    mov eax, 0
    out 0xf4, al
bad:
    mov eax, 1
    out 0xf4, al
`, { memoryBytes: 16 * 1024 * 1024 });
    assert.equal(s.exit.status, 0);
  });

  it('bus.wants follows subscriptions exactly', () => {
    const { vm, stats } = startAsm(TOUCH_FAR);
    stats.dispose();
    for (const k of EVENT_KINDS) assert.equal(vm.bus.wants[k], false, k);
    const off = vm.bus.on('invlpg', () => undefined);
    assert.deepEqual(EVENT_KINDS.filter((k) => vm.bus.wants[k]), ['invlpg']);
    off();
    assert.equal(vm.bus.wants.invlpg, false);
    const offAll = vm.bus.on('*', () => undefined);
    assert.ok(EVENT_KINDS.every((k) => vm.bus.wants[k]));
    offAll();
  });

  it('an event kind nobody listens to is never emitted', () => {
    const { vm, stats } = startAsm(TOUCH_FAR);
    stats.dispose();
    let emitted = 0;
    vm.bus.emit = () => { emitted++; };
    vm.run(10_000);
    assert.equal(emitted, 0);
    assert.ok(vm.stopped);
  });

  it('run() retires at most its budget, and resumes where it left off', () => {
    const src = `
.org 0x1000
_start:
    mov rcx, 1000
.l: dec rcx
    jnz .l
    hlt
`;
    const { vm } = startAsm(src);
    const a = vm.run(7);
    assert.equal(a.executed, 7);
    assert.equal(a.outcome, 'budget');
    let total = 7;
    while (!vm.stopped) total += vm.run(13).executed;
    assert.equal(total, 1 + 2 * 1000 + 1);
    assert.equal(vm.icount, total);
  });

  it('application processors wait, then start at the address written to port 0xF0', () => {
    const s = runAsm(`
.org 0x1000
_start:
    mov eax, ap_entry
    out 0xf0, eax
    mov eax, 1
    out 0xf1, al                 ; start vCPU 1
.wait:
    cmp byte [flag], 0
    je .wait
    mov al, 'B'
    out 0xe9, al
    mov eax, 0
    out 0xf4, al
ap_entry:
    mov al, 'A'
    out 0xe9, al
    mov byte [flag], 1
    cli
    hlt
flag: .byte 0
`, { vcpus: 2 });
    assert.equal(s.exit.status, 0, s.exit.message);
    assert.equal(s.console, 'AB');
  });
});

describe('VM run-until (pause from an event listener)', () => {
  const SRC = `
.org 0x1000
_start:
    mov rsp, 0x8000
    mov rcx, 0
.fill:                          ; identity-map 0–4 MiB with 4 KiB pages (32-bit paging)
    mov rax, rcx
    shl rax, 12
    or rax, 3
    mov dword [0x11000 + rcx*4], eax
    inc rcx
    cmp rcx, 1024
    jne .fill
    mov dword [0x10000], 0x11000 | 3
    mov rax, 0x10000
    mov cr3, rax
    mov rax, 0x80000011
    mov cr0, rax
    mov rsi, 0x200000
    mov rcx, 40
.touch:                         ; one new page per iteration: a TLB miss each time
    add rax, [rsi]
    add rsi, 4096
    dec rcx
    jnz .touch
    hlt
`;

  for (const fastPaths of [true, false]) {
    it(`stops right after the instruction whose access missed the TLB (fast paths ${fastPaths ? 'on' : 'off'})`, () => {
      const { vm } = startAsm(SRC);
      vm.vcpus[0].fastPaths = fastPaths;
      const misses: number[] = [];
      vm.bus.on('tlb-miss', (e) => {
        if (e.access === 'read' && e.gva >= 0x200000n) {
          misses.push(e.icount);
          vm.requestPause(0);
        }
      });
      let pauses = 0;
      while (!vm.stopped) {
        const r = vm.run(1_000_000);
        if (r.outcome !== 'pause-requested') continue;
        pauses++;
        // The instruction that missed has retired; nothing after it has.
        assert.equal(vm.vcpus[0].icount, misses[misses.length - 1] + 1);
      }
      assert.equal(pauses, 40);
    });
  }

  it('run(1) single-steps', () => {
    const { vm } = startAsm(SRC);
    for (let i = 1; i <= 50; i++) {
      assert.equal(vm.run(1).executed, 1);
      assert.equal(vm.icount, i);
    }
  });
});
