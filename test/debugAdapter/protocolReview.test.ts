// The adapter against the DAP specification: every request is answered exactly once (success or
// error), every advertised capability's request is implemented, the events a client relies on
// are sent — invalidated after setVariable and writeMemory, memory after writeMemory (to clients
// that support them), continued when a restart resumes on its own, and breakpoint events that
// keep the client's ids across a restart.
import { strict as assert } from 'node:assert';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { VmemDebugSession } from '../../src/debugAdapter/session';
import { act, adapterPerTest, launchAndStop, topFrame, writeProgram } from './adapterHarness';

const PROGRAM = `.org 0x1000
_start:
    mov rsp, 0x8000
    mov rax, 1
    add rax, 2
    mov [0x3000], rax
    mov al, 0
    out 0xf4, al
`;

/** The session in-process: every message it sends, and requests answered by seq. */
class Recorder {
  readonly session = new VmemDebugSession();
  readonly messages: DebugProtocol.ProtocolMessage[] = [];
  private seq = 1;
  constructor() {
    this.session.onDidSendMessage((m) => this.messages.push(m as DebugProtocol.ProtocolMessage));
  }
  send(command: string, args?: unknown): number {
    const seq = this.seq++;
    this.session.handleMessage({ seq, type: 'request', command, arguments: args } as DebugProtocol.Request);
    return seq;
  }
  responses(seq: number): DebugProtocol.Response[] {
    return this.messages.filter((m): m is DebugProtocol.Response => m.type === 'response' && (m as DebugProtocol.Response).request_seq === seq);
  }
  events(name: string): DebugProtocol.Event[] {
    return this.messages.filter((m): m is DebugProtocol.Event => m.type === 'event' && (m as DebugProtocol.Event).event === name);
  }
}

const settle = (ms = 100): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Each advertised capability and a request it promises.
const CAPABILITY_REQUESTS: [keyof DebugProtocol.Capabilities, string][] = [
  ['supportsConfigurationDoneRequest', 'configurationDone'], ['supportsSetVariable', 'setVariable'], ['supportsReadMemoryRequest', 'readMemory'],
  ['supportsWriteMemoryRequest', 'writeMemory'], ['supportsDisassembleRequest', 'disassemble'], ['supportsCancelRequest', 'cancel'],
  ['supportsFunctionBreakpoints', 'setFunctionBreakpoints'], ['supportsInstructionBreakpoints', 'setInstructionBreakpoints'],
  ['supportsDataBreakpoints', 'dataBreakpointInfo'], ['supportsDataBreakpoints', 'setDataBreakpoints'], ['supportsExceptionInfoRequest', 'exceptionInfo'],
  ['supportsStepBack', 'stepBack'], ['supportsStepBack', 'reverseContinue'], ['supportsRestartRequest', 'restart'], ['supportsTerminateRequest', 'terminate'],
];

describe('DAP conformance', function () {
  this.timeout(30_000);

  it('advertises only what it implements, and answers every request exactly once', async () => {
    const r = new Recorder();
    const init = r.send('initialize', { adapterID: 'vmem', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    await settle(10);
    const caps = r.responses(init)[0].body as DebugProtocol.Capabilities;
    const program = writeProgram('p.s', PROGRAM);
    const launch = r.send('launch', { program, stopOnEntry: true });
    await settle(20);
    r.send('configurationDone');
    await settle(200);
    assert.equal(r.responses(launch).length, 1);
    const seqs: [string, number][] = [];
    for (const [cap, command] of CAPABILITY_REQUESTS) {
      assert.equal(caps[cap], true, `${cap} advertised`);
      if (command === 'restart' || command === 'terminate' || command === 'configurationDone') continue;
      seqs.push([command, r.send(command, { threadId: 1 })]);
    }
    // And the rest of the surface, with arguments missing or wrong.
    for (const command of ['threads', 'stackTrace', 'scopes', 'variables', 'evaluate', 'setBreakpoints', 'setExceptionBreakpoints', 'next', 'stepIn', 'stepOut', 'pause', 'continue', 'vmem/context', 'vmem/nope', 'source', 'goto']) {
      seqs.push([command, r.send(command, { threadId: 1, frameId: 1000 })]);
    }
    await settle(300);
    for (const [command, seq] of seqs) {
      const answers = r.responses(seq);
      assert.equal(answers.length, 1, `${command} answered ${answers.length} times`);
      if (CAPABILITY_REQUESTS.some(([, c]) => c === command)) assert.doesNotMatch(answers[0].message ?? '', /unrecognized/, `${command} is implemented`);
    }
    r.send('disconnect');
  });

  it('sends invalidated after setVariable, memory and invalidated after writeMemory (to clients that support them)', async () => {
    const r = new Recorder();
    r.send('initialize', { adapterID: 'vmem', pathFormat: 'path', supportsInvalidatedEvent: true, supportsMemoryEvent: true });
    r.send('launch', { program: writeProgram('p.s', PROGRAM), stopOnEntry: true });
    await settle(20);
    r.send('configurationDone');
    await settle(200);
    const sc = r.send('scopes', { frameId: 1000 });
    await settle(10);
    const registers = (r.responses(sc)[0].body as DebugProtocol.ScopesResponse['body']).scopes[0].variablesReference;
    const sv = r.send('setVariable', { variablesReference: registers, name: 'rax', value: '0x42' });
    await settle(10);
    assert.equal(r.responses(sv)[0].success, true);
    const inv = r.events('invalidated');
    assert.equal(inv.length, 1);
    assert.deepEqual((inv[0] as DebugProtocol.InvalidatedEvent).body.areas, ['stacks', 'variables']);
    const wm = r.send('writeMemory', { memoryReference: 'gpa:1:0x3000', offset: 8, data: Buffer.from([1, 2, 3, 4]).toString('base64') });
    await settle(10);
    assert.equal(r.responses(wm)[0].success, true);
    const mem = r.events('memory') as DebugProtocol.MemoryEvent[];
    assert.deepEqual(mem.map((e) => e.body), [{ memoryReference: 'gpa:1:0x3000', offset: 8, count: 4 }]);
    assert.equal(r.events('invalidated').length, 2);
    r.send('disconnect');

    // A client that did not say it supports them gets neither.
    const quiet = new Recorder();
    quiet.send('initialize', { adapterID: 'vmem', pathFormat: 'path' });
    quiet.send('launch', { program: writeProgram('p.s', PROGRAM), stopOnEntry: true });
    await settle(20);
    quiet.send('configurationDone');
    await settle(200);
    quiet.send('writeMemory', { memoryReference: 'gpa:1:0x3000', data: 'AQID' });
    await settle(10);
    assert.equal(quiet.events('memory').length + quiet.events('invalidated').length, 0);
    quiet.send('disconnect');
  });
});

describe('DAP restart', function () {
  this.timeout(30_000);
  const h = adapterPerTest();

  it('keeps the client’s breakpoint ids across a restart, and says the run continued', async () => {
    const program = writeProgram('p.s', PROGRAM);
    let ids: number[] = [];
    const first = await launchAndStop(h.dc, { program }, async () => {
      const r = await h.dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: 5 }] });
      const f = await h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: '_start' }] });
      ids = [r.body.breakpoints[0].id!, f.body.breakpoints[0].id!];
    });
    assert.deepEqual(first.body.hitBreakpointIds, [ids[1]], 'the function breakpoint on _start');
    const changed: DebugProtocol.BreakpointEvent[] = [];
    h.dc.on('breakpoint', (e: DebugProtocol.BreakpointEvent) => changed.push(e));
    const continued = h.dc.waitForEvent('continued') as Promise<DebugProtocol.ContinuedEvent>;
    const stopped = h.dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await h.dc.send('restart', { arguments: { program } });
    assert.equal((await continued).body.allThreadsContinued, true);
    const again = await stopped;
    assert.deepEqual(again.body.hitBreakpointIds, [ids[1]], 'the client still knows it by its first id');
    assert.deepEqual(changed.map((e) => [e.body.reason, e.body.breakpoint.id, e.body.breakpoint.verified]).sort(), [['changed', ids[0], true], ['changed', ids[1], true]].sort());
    const next = await act(h.dc, h.dc.continueRequest({ threadId: 1 }));
    assert.deepEqual(next.body.hitBreakpointIds, [ids[0]]);
    assert.equal((await topFrame(h.dc)).line, 5);
  });
});
