// stepBack and reverseContinue through DAP (the bundled adapter, DebugClient): the capability,
// a line step back and an instruction step back, reverseContinue to the previous breakpoint hit.
import { strict as assert } from 'node:assert';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { act, adapterPerTest, writeProgram } from './adapterHarness';

// Lines:   1 .org, 2 _start, 3 mov rsp, 4 mov rax 1, 5 call, 6 call, 7 mov al, 8 out, 9 hlt-ish exit…
const CALLS = `.org 0x1000
_start:
    mov rsp, 0x8000
    mov rax, 1
    call add3
    call add3
    mov al, 0
    out 0xf4, al
add3:
    add rax, 1
    add rax, 2
    ret
`;

async function where(dc: DebugClient): Promise<{ line: number; rax: string }> {
  const f = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
  const rax = (await dc.evaluateRequest({ expression: 'rax', frameId: f.id, context: 'watch' })).body.result;
  return { line: f.line, rax };
}

describe('time travel over DAP', function () {
  this.timeout(30_000);
  const h = adapterPerTest();

  it('steps back by line and by instruction, and reverse-continues to the previous breakpoint hit', async () => {
    const dc = h.dc;
    const program = writeProgram('calls.s', CALLS);
    const init = await dc.initializeRequest();
    assert.equal(init.body?.supportsStepBack, true);
    const first = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await Promise.all([
      dc.waitForEvent('initialized').then(async () => {
        await dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: 10 }] });
        await dc.configurationDoneRequest();
      }),
      dc.launchRequest({ program } as DebugProtocol.LaunchRequestArguments),
    ]);
    assert.equal((await first).body.reason, 'breakpoint');
    assert.deepEqual(await where(dc), { line: 10, rax: '0x1' });
    // The second hit of add3's first line, then back to the first.
    await act(dc, dc.continueRequest({ threadId: 1 }));
    assert.deepEqual(await where(dc), { line: 10, rax: '0x4' });
    const back = await act(dc, dc.reverseContinueRequest({ threadId: 1 }));
    assert.equal(back.body.reason, 'breakpoint');
    assert.deepEqual(await where(dc), { line: 10, rax: '0x1' });
    // Line 10 was entered from the call on line 5: one line back is that call, rax untouched.
    await act(dc, dc.stepBackRequest({ threadId: 1 }));
    assert.deepEqual(await where(dc), { line: 5, rax: '0x1' });
    await act(dc, dc.stepBackRequest({ threadId: 1, granularity: 'instruction' }));
    assert.deepEqual(await where(dc), { line: 4, rax: '0x0' });
    await act(dc, dc.stepBackRequest({ threadId: 1, granularity: 'instruction' }));
    assert.deepEqual(await where(dc), { line: 3, rax: '0x0' });
    const start = await act(dc, dc.stepBackRequest({ threadId: 1 }));
    assert.equal(start.body.reason, 'entry');
    // Forward again from the past: the same future.
    await act(dc, dc.continueRequest({ threadId: 1 }));
    assert.deepEqual(await where(dc), { line: 10, rax: '0x1' });
  });
});
