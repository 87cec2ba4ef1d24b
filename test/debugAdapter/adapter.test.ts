// The adapter end to end, over stdio and over the socket server: launch, stop on entry, line
// breakpoints, stepping, console output, bad launch configurations, and a seeded fuzz of
// malformed and out-of-order requests that must all be answered without killing the adapter.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { act, adapterPerTest, launchAndStop, ROOT, topFrame, writeProgram } from './adapterHarness';
import type { Transport } from './adapterHarness';
import { rng as seeded } from '../support/rng';

const HELLO = join(ROOT, 'examples/hello.s');

// A bare-metal program: main calls add3 twice, add3 calls nothing; prints "ok" and exits.
const CALLS = `.org 0x1000
_start:
    mov rsp, 0x8000
    mov rax, 1
    call add3
    call add3
    mov al, 'o'
    out 0xe9, al
    mov al, 'k'
    out 0xe9, al
    mov al, 10
    out 0xe9, al
    mov al, 0
    out 0xf4, al
add3:
    add rax, 1
    add rax, 2
    ret
`;
const LINE = { movRax: 4, call1: 5, call2: 6, afterCalls: 7, add3First: 16, add3Second: 17 };

for (const transport of ['stdio', 'socket'] as Transport[]) {
  describe(`debug adapter over ${transport}`, function () {
    this.timeout(30_000);
    const h = adapterPerTest(transport);

    it('launches and stops on entry, with a thread per vCPU and registers', async () => {
      const dc = h.dc;
      const program = writeProgram('calls.s', CALLS);
      const ev = await launchAndStop(dc, { type: 'vmem', request: 'launch', name: 'x', program, stopOnEntry: true });
      assert.equal(ev.body.reason, 'entry');
      assert.equal(ev.body.allThreadsStopped, true);
      const threads = await dc.threadsRequest();
      assert.deepEqual(threads.body.threads.map((t) => t.name), ['vm1/vcpu0']);
      const f = await topFrame(dc);
      assert.equal(f.line, 3);
      assert.equal(f.instructionPointerReference, '0x1000');
      const scopes = await dc.scopesRequest({ frameId: f.id });
      const vars = await dc.variablesRequest({ variablesReference: scopes.body.scopes[0].variablesReference });
      assert.equal(vars.body.variables.find((v) => v.name === 'rip')?.value, '0x0000000000001000');
    });

    it('stops at a line breakpoint, steps over / into / out of calls, prints console output', async () => {
      const dc = h.dc;
      const program = writeProgram('calls.s', CALLS);
      let verified: DebugProtocol.Breakpoint[] = [];
      const ev = await launchAndStop(dc, { program }, async () => {
        const r = await dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: LINE.call1 }, { line: 2 }] });
        verified = r.body.breakpoints;
      });
      assert.equal(verified[0].verified, true);
      assert.equal(verified[1].line, 3, 'a label line moves to the next instruction');
      assert.match(verified[1].message ?? '', /moved/);
      assert.equal(ev.body.reason, 'breakpoint');
      assert.equal((await topFrame(dc)).line, 3);
      await act(dc, dc.continueRequest({ threadId: 1 }));
      assert.equal((await topFrame(dc)).line, LINE.call1);
      // next steps over the call: add3 runs, rax 1 → 4
      const n = await act(dc, dc.nextRequest({ threadId: 1 }));
      assert.equal(n.body.reason, 'step');
      assert.equal((await topFrame(dc)).line, LINE.call2);
      assert.equal((await dc.evaluateRequest({ expression: 'rax', frameId: (await topFrame(dc)).id })).body.result, '0x4');
      // stepIn enters add3; the stack shows the caller
      await act(dc, dc.stepInRequest({ threadId: 1 }));
      const st = await dc.stackTraceRequest({ threadId: 1 });
      assert.deepEqual(st.body.stackFrames.map((f) => [f.name, f.line]), [['add3', LINE.add3First], ['_start+0x1a', LINE.afterCalls]]);
      // instruction granularity: one instruction
      await act(dc, dc.stepInRequest({ threadId: 1, granularity: 'instruction' }));
      assert.equal((await topFrame(dc)).line, LINE.add3Second);
      await act(dc, dc.stepOutRequest({ threadId: 1 }));
      assert.equal((await topFrame(dc)).line, LINE.afterCalls);
      const terminated = dc.waitForEvent('terminated');
      const output = dc.assertOutput('stdout', 'ok');
      await dc.continueRequest({ threadId: 1 });
      await output;
      await terminated;
    });

    it('stops at a breakpoint in the kernel example (hello.s) and at a function breakpoint on a label', async () => {
      const dc = h.dc;
      const ev = await launchAndStop(dc, { program: HELLO }, async () => {
        await dc.setBreakpointsRequest({ source: { path: HELLO }, breakpoints: [{ line: 31 }] });
        await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'page_fault_handler' }] });
      });
      assert.equal(ev.body.reason, 'breakpoint');
      const f = await topFrame(dc);
      assert.equal(f.source?.path, HELLO);
      assert.equal(f.line, 31);
      assert.equal(f.instructionPointerReference, '0x400000', 'user code at gva 0x400000, loaded at USER_IMAGE');
      const pf = await act(dc, dc.continueRequest({ threadId: 1 }));
      assert.equal(pf.body.reason, 'function breakpoint');
      assert.match((await topFrame(dc)).name, /^page_fault_handler/);
    });

    it('answers a pause while running within a short time', async () => {
      const dc = h.dc;
      const program = writeProgram('spin.s', `.org 0x1000\n_start:\n    mov rsp, 0x8000\nspin:\n    inc rax\n    jmp spin\n`);
      await launchAndStop(dc, { program, stopOnEntry: true });
      await dc.continueRequest({ threadId: 1 });
      await new Promise((r) => setTimeout(r, 50));
      const t0 = Date.now();
      const ev = await act(dc, dc.pauseRequest({ threadId: 1 }));
      assert.ok(Date.now() - t0 < 100, `pause took ${Date.now() - t0} ms`);
      assert.equal(ev.body.reason, 'pause');
      assert.ok([5, 6].includes((await topFrame(dc)).line));
    });

    const BAD: [string, Record<string, unknown>, RegExp][] = [
      ['unknown key', { program: HELLO, stopOnEntri: true }, /unknown launch configuration key 'stopOnEntri'/],
      ['bad mode', { program: HELLO, mode: 'hyper' }, /'mode': expected one of/],
      ['missing file', { program: '/nonexistent/x.s' }, /no such file/],
      ['no program', {}, /'program': expected/],
      ['bad memory', { program: HELLO, memoryMiB: -1 }, /'memoryMiB': expected a whole number/],
      ['bad tlb geometry', { program: HELLO, tlbEntries: 48, tlbWays: 4 }, /power-of-two/],
      ['bad logEvents', { program: HELLO, logEvents: ['nope'] }, /unknown event kind/],
      ['scenario keys', { program: join(ROOT, 'examples/two-vms.json'), mode: 'shadow' }, /does not apply to a scenario/],
    ];
    for (const [what, args, message] of BAD) {
      it(`rejects a bad launch configuration: ${what}`, async () => {
        await h.dc.initializeRequest();
        await assert.rejects(h.dc.launchRequest(args as DebugProtocol.LaunchRequestArguments), message);
        assert.ok((await h.dc.threadsRequest()).success, 'the adapter still answers');
      });
    }

    it('reports assembly errors with file:line:column', async () => {
      const program = writeProgram('bad.s', `.org 0x1000\n_start:\n    mov rax,\n    frob rbx\n`);
      await h.dc.initializeRequest();
      await assert.rejects(h.dc.launchRequest({ program } as DebugProtocol.LaunchRequestArguments), /bad\.s:3:\d+: .*\n.*bad\.s:4:\d+/);
    });

    it('survives a seeded fuzz of malformed and out-of-order requests', async () => {
      const dc = h.dc;
      const rng = seeded(transport === 'stdio' ? 7 : 11);
      const commands = ['threads', 'stackTrace', 'scopes', 'variables', 'continue', 'next', 'stepIn', 'stepOut', 'pause', 'evaluate', 'setBreakpoints',
        'setFunctionBreakpoints', 'setExceptionBreakpoints', 'dataBreakpointInfo', 'setDataBreakpoints', 'exceptionInfo', 'setInstructionBreakpoints', 'frobnicate', 'restart'];
      const junk = (): unknown => [null, 1, -5, 'x', true, [], {}, { threadId: 1 }, { threadId: 99 }, { frameId: 1000 }, { variablesReference: 17 }, { source: {} }, { expression: '[[' }, { breakpoints: [{ line: 'a' }] }, { filters: [5, 'pf-true'] }][rng.int(15)];
      const fuzz = async (n: number): Promise<void> => {
        for (let i = 0; i < n; i++) {
          const r = await dc.customRequest(commands[rng.int(commands.length)], junk()).catch((e: Error) => ({ success: false, message: e.message }));
          assert.ok(r !== undefined);
        }
      };
      await dc.initializeRequest();
      await fuzz(60);
      const program = writeProgram('calls.s', CALLS);
      const stopped = dc.waitForEvent('stopped');
      const initialized = dc.waitForEvent('initialized').then(() => dc.configurationDoneRequest());
      await dc.launchRequest({ program, stopOnEntry: true } as DebugProtocol.LaunchRequestArguments);
      await initialized;
      await stopped;
      await fuzz(120);
      assert.ok((await dc.threadsRequest()).success, 'still alive');
    });
  });
}
