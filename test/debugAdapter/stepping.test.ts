// Stepping over DAP: `next` over a call, a system call and a faulting instruction, and stepOut,
// run at full engine speed to a temporary breakpoint at the return (the right stack depth:
// recursion does not fool it); breakpoints inside the callee still stop them. Multi-vCPU:
// singleThread steps and continues run one vCPU with the others frozen; without it, all run.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { act, adapterPerTest, evaluate, launchAndStop, ROOT, topFrame, writeProgram } from './adapterHarness';

// busy runs 3 × 500,000 instructions; sum(n) = n + (n-1) + ... + 0, recursively.
const FAST = `.org 0x1000
_start:
    mov rsp, 0x8000
    xor rax, rax
    call busy
    mov rdi, 4
    call sum
    mov al, 0
    out 0xf4, al
busy:
    mov rcx, 500000
.loop:
    add rax, 1
    dec rcx
    jnz .loop
    ret
; sum(rdi)
sum:
    cmp rdi, 0
    je .base
    push rdi
    sub rdi, 1
    call sum
    pop rdi
    add rax, rdi
    ret
.base:
    xor eax, eax
    ret
`;
const L = { callBusy: 5, afterBusy: 6, callSum: 7, loopAdd: 13, recurse: 23, afterRecurse: 24, base: 28 };

// vCPU 0 starts vCPU 1 at `ap`; then each spins on its own counter (rbx, rcx).
const TWO_CPUS = `.org 0x1000
_start:
    mov rsp, 0x8000
    mov eax, ap
    out 0xf0, eax
    mov al, 1
    out 0xf1, al
bsp_loop:
    add rbx, 1
    jmp bsp_loop
ap:
    mov rsp, 0x9000
ap_loop:
    add rcx, 1
    jmp ap_loop
`;

// flush loops 200,000 instructions, then invalidates a page: an invlpg event inside a call.
const FLUSH = `.org 0x1000
_start:
    mov rsp, 0x8000
    call flush
    mov al, 0
    out 0xf4, al
flush:
    mov rcx, 100000
.wait:
    dec rcx
    jnz .wait
    invlpg [0x5000]
    ret
`;

const HELLO = join(ROOT, 'examples/hello.s');
const ULIB = join(ROOT, 'examples/kernel/ulib.s');
const DEMAND = join(ROOT, 'examples/demand-paging.s');

describe('stepping at engine speed', function () {
  this.timeout(30_000);
  const h = adapterPerTest();

  async function stopAtLine(program: string, line: number, condition?: string): Promise<void> {
    await launchAndStop(h.dc, { program }, () => h.dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line, condition }] }));
    assert.equal((await topFrame(h.dc)).line, line);
    await h.dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [] });
  }

  it('next over a call that runs 1,500,000 instructions returns quickly, at the next line', async () => {
    const program = writeProgram('fast.s', FAST);
    await stopAtLine(program, L.callBusy);
    const t0 = Date.now();
    const ev = await act(h.dc, h.dc.nextRequest({ threadId: 1 }));
    const ms = Date.now() - t0;
    assert.equal(ev.body.reason, 'step');
    assert.equal((await topFrame(h.dc)).line, L.afterBusy);
    assert.equal(await evaluate(h.dc, 'rax'), '0x7a120', 'the whole call ran (500000 additions)');
    // Single-stepping 1.5M instructions took seconds; at engine speed it is tens of milliseconds.
    assert.ok(ms < 3000, `next over the call took ${ms} ms`);
  });

  it('next over a recursive call stops at the same depth, not where a deeper call returns', async () => {
    const program = writeProgram('fast.s', FAST);
    await stopAtLine(program, L.recurse, 'rdi == 2');
    const rsp = await evaluate(h.dc, 'rsp');
    await act(h.dc, h.dc.nextRequest({ threadId: 1 }));
    assert.equal((await topFrame(h.dc)).line, L.afterRecurse);
    assert.equal(await evaluate(h.dc, 'rsp'), rsp, 'back at the depth the next started at');
    assert.equal(await evaluate(h.dc, 'rax'), '0x3', 'sum(2) = 2 + 1 + 0 returned: the deeper returns did not stop');
  });

  it('stepOut leaves one frame at a time out of a recursion', async () => {
    const program = writeProgram('fast.s', FAST);
    await stopAtLine(program, L.base);
    const depth = async (): Promise<number> => (await h.dc.stackTraceRequest({ threadId: 1 })).body.totalFrames ?? 0;
    const d0 = await depth();
    assert.equal(d0, 6, 'sum(0) at .base, sum(1..4), _start');
    const expected = [['0x0', '0x1'], ['0x1', '0x2'], ['0x3', '0x3']];
    for (let i = 0; i < expected.length; i++) {
      const ev = await act(h.dc, h.dc.stepOutRequest({ threadId: 1 }));
      assert.equal(ev.body.reason, 'step');
      assert.equal((await topFrame(h.dc)).line, L.afterRecurse);
      assert.equal(await depth(), d0 - 1 - i);
      assert.equal(await evaluate(h.dc, 'rax'), expected[i][0], `rax after stepOut ${i + 1}`);
      assert.equal(await evaluate(h.dc, 'qword [rsp]'), expected[i][1], 'the pushed rdi of this frame is next on the stack');
    }
  });

  it('a breakpoint inside the callee stops the next (and its condition is honoured)', async () => {
    const program = writeProgram('fast.s', FAST);
    await stopAtLine(program, L.callBusy);
    await h.dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: L.loopAdd, condition: 'rax == 1000' }] });
    const ev = await act(h.dc, h.dc.nextRequest({ threadId: 1 }));
    assert.equal(ev.body.reason, 'breakpoint');
    assert.equal((await topFrame(h.dc)).line, L.loopAdd);
    assert.equal(await evaluate(h.dc, 'rax'), '0x3e8');
    // Removing it, stepOut finishes busy at full speed, back in _start after the call.
    await h.dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [] });
    await act(h.dc, h.dc.stepOutRequest({ threadId: 1 }));
    assert.equal((await topFrame(h.dc)).line, L.afterBusy);
    assert.equal(await evaluate(h.dc, 'rax'), '0x7a120');
  });

  it('next over int 0x80 runs the system call and stops on the ret after it, in user mode', async () => {
    await launchAndStop(h.dc, { program: HELLO }, () => h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'write' }] }));
    await act(h.dc, h.dc.nextRequest({ threadId: 1 }));
    assert.equal((await topFrame(h.dc)).line, 16, 'at int 0x80');
    const output = h.dc.assertOutput('stdout', 'hello from A');
    const ev = await act(h.dc, h.dc.nextRequest({ threadId: 1 }));
    await output;
    assert.equal(ev.body.reason, 'step');
    const f = await topFrame(h.dc);
    assert.equal(f.source?.path, ULIB);
    assert.equal(f.line, 17);
    assert.equal(await evaluate(h.dc, 'cpl'), '0x3');
  });

  it('an armed event filter stops a next over a call that raises the event', async () => {
    const program = writeProgram('flush.s', FLUSH);
    await stopAtLine(program, 4);
    await h.dc.setExceptionBreakpointsRequest({ filters: ['invlpg'] });
    const ev = await act(h.dc, h.dc.nextRequest({ threadId: 1 }));
    assert.equal(ev.body.reason, 'exception');
    assert.match(ev.body.description ?? '', /INVLPG/i);
    assert.equal((await topFrame(h.dc)).line, 13, 'stopped after the invlpg, inside the callee');
    assert.equal(await evaluate(h.dc, 'rcx'), '0x0', 'the loop before it ran');
  });

  it('next over a faulting store runs the page-fault handler and stops after the retried store', async () => {
    await stopAtLine(DEMAND, 30);
    const rbx = await evaluate(h.dc, 'rbx');
    await act(h.dc, h.dc.nextRequest({ threadId: 1 }));
    assert.equal((await topFrame(h.dc)).line, 31);
    assert.equal(await evaluate(h.dc, `qword [${rbx}]`), '0x1', 'the store was retried after the handler mapped the page');
    assert.equal(await evaluate(h.dc, 'cpl'), '0x3');
  });
});

describe('multi-vCPU execution control', function () {
  this.timeout(30_000);
  const h = adapterPerTest();

  const counters = async (): Promise<[string, string]> => [await evaluate(h.dc, 'rbx', 1), await evaluate(h.dc, 'rcx', 2)];

  it('advertises single-thread execution requests', async () => {
    const r = await h.dc.initializeRequest();
    assert.equal(r.body?.supportsSingleThreadExecutionRequests, true);
  });

  it('singleThread steps and continues run one vCPU; without it the whole machine runs', async () => {
    const program = writeProgram('two.s', TWO_CPUS);
    await launchAndStop(h.dc, { program, vcpus: 2, stopOnEntry: true });
    assert.deepEqual((await h.dc.threadsRequest()).body.threads.map((t) => [t.id, t.name]), [[1, 'vm1/vcpu0'], [2, 'vm1/vcpu1']]);
    // vcpu1 waits for its start-up: stepping it alone cannot retire anything, and says why.
    const frozen = await act(h.dc, h.dc.stepInRequest({ threadId: 2, singleThread: true } as DebugProtocol.StepInArguments));
    assert.match(frozen.body.description ?? '', /vm1\/vcpu1 is halted and the other vCPUs are frozen/);
    for (let i = 0; i < 10; i++) await act(h.dc, h.dc.nextRequest({ threadId: 1 }));
    assert.ok([9, 10].includes((await topFrame(h.dc, 1)).line), 'vcpu0 started vcpu1 and spins');
    // All-stop steps: vcpu1 ran too.
    const [, c0] = await counters();
    assert.notEqual(c0, '0x0', 'vcpu1 ran while vcpu0 stepped');
    // singleThread steps of vcpu0: vcpu1 frozen.
    const [b1, c1] = await counters();
    for (let i = 0; i < 4; i++) await act(h.dc, h.dc.nextRequest({ threadId: 1, singleThread: true } as DebugProtocol.NextArguments));
    const [b2, c2] = await counters();
    assert.notEqual(b2, b1);
    assert.equal(c2, c1, 'vcpu1 did not run during vcpu0 single-thread steps');
    // A singleThread continue of vcpu1, paused: vcpu0 frozen.
    const cont = await h.dc.continueRequest({ threadId: 2, singleThread: true } as DebugProtocol.ContinueArguments);
    assert.equal(cont.body.allThreadsContinued, false);
    await new Promise((r) => setTimeout(r, 50));
    await act(h.dc, h.dc.pauseRequest({ threadId: 2 }));
    const [b3, c3] = await counters();
    assert.equal(b3, b2, 'vcpu0 frozen');
    assert.ok(BigInt(c3) > BigInt(c2) + 1000n, 'vcpu1 ran at speed');
    // An all-threads continue: both run.
    const all = await h.dc.continueRequest({ threadId: 2 });
    assert.equal(all.body.allThreadsContinued, true);
    await new Promise((r) => setTimeout(r, 50));
    const paused = await act(h.dc, h.dc.pauseRequest({ threadId: 1 }));
    assert.equal(paused.body.allThreadsStopped, true);
    const [b4, c4] = await counters();
    assert.ok(BigInt(b4) > BigInt(b3) && BigInt(c4) > BigInt(c3), 'both vCPUs ran');
  });

  it('a singleThread continue on a missing thread is an error response', async () => {
    const program = writeProgram('two.s', TWO_CPUS);
    await launchAndStop(h.dc, { program, vcpus: 2, stopOnEntry: true });
    await assert.rejects(h.dc.continueRequest({ threadId: 7, singleThread: true } as DebugProtocol.ContinueArguments), /no thread 7/);
  });
});
