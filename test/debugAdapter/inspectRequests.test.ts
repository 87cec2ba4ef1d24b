// The inspection requests end to end over stdio and the socket server: scopes and variable
// trees, setVariable, evaluate in each context, read/writeMemory in gva/gpa/mpa (with
// unreadable ranges), disassemble with source lines, the views' custom requests, and the
// throttled statistics and progress events of a long continue.
import { strict as assert } from 'node:assert';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { adapterPerTest, writeProgram } from './adapterHarness';
import type { Transport } from './adapterHarness';

// Bare metal at 0x1000, paging off, 64 MiB: gva = gpa = mpa.
const PROGRAM = `.org 0x1000
_start:
    mov rsp, 0x8000
    mov rax, 5
    call add3
    mov al, 0
    out 0xf4, al
add3:
    add rax, 3
    ret
data:
    .qword 0x1122334455667788
`;
const LOOP = `.org 0x1000
_start:
    add rax, 1
    jmp _start
`;
const MEM_END = 64 * 2 ** 20;
const INIT: DebugProtocol.InitializeRequestArguments = { adapterID: 'vmem', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true };

// DebugClient has no helpers for these two.
const readMem = (dc: DebugClient, args: DebugProtocol.ReadMemoryArguments): Promise<DebugProtocol.ReadMemoryResponse> => dc.send('readMemory', args) as Promise<DebugProtocol.ReadMemoryResponse>;
const writeMem = (dc: DebugClient, args: DebugProtocol.WriteMemoryArguments): Promise<DebugProtocol.WriteMemoryResponse> => dc.send('writeMemory', args) as Promise<DebugProtocol.WriteMemoryResponse>;

async function launch(dc: DebugClient, text: string, init: Partial<DebugProtocol.InitializeRequestArguments> = {}, stopOnEntry = true, extra: object = {}): Promise<string> {
  const program = writeProgram('prog.s', text);
  await Promise.all([
    dc.waitForEvent('initialized').then(() => dc.configurationDoneRequest()),
    dc.initializeRequest({ ...INIT, ...init }).then(() => dc.launchRequest({ type: 'vmem', request: 'launch', name: 'x', program, stopOnEntry, ...extra } as DebugProtocol.LaunchRequestArguments)),
    stopOnEntry ? dc.waitForEvent('stopped') : Promise.resolve(),
  ]);
  return program;
}

async function frameId(dc: DebugClient): Promise<number> {
  return (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].id;
}

async function scopeVars(dc: DebugClient, name: string): Promise<{ ref: number; vars: DebugProtocol.Variable[] }> {
  const scopes = (await dc.scopesRequest({ frameId: await frameId(dc) })).body.scopes;
  const s = scopes.find((x) => x.name === name);
  assert.ok(s, `no scope ${name} in ${scopes.map((x) => x.name).join(', ')}`);
  return { ref: s.variablesReference, vars: (await dc.variablesRequest({ variablesReference: s.variablesReference })).body.variables };
}

async function fails(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => re.test(e.message));
}

const b64 = (bytes: number[]): string => Buffer.from(bytes).toString('base64');
const bytesOf = (data: string | undefined): number[] => [...Buffer.from(data ?? '', 'base64')];

for (const transport of ['stdio', 'socket'] as Transport[]) {
  describe(`inspection requests over ${transport}`, function () {
    this.timeout(30_000);
    const h = adapterPerTest(transport);

    it('announces the inspection capabilities', async () => {
      const r = await h.dc.initializeRequest(INIT);
      for (const c of ['supportsSetVariable', 'supportsReadMemoryRequest', 'supportsWriteMemoryRequest', 'supportsDisassembleRequest', 'supportsCancelRequest'] as const) assert.equal(r.body?.[c], true, c);
    });

    it('scopes: registers with flag children and memory references, decoded control registers, translation; native has no VM-exit scopes', async () => {
      const dc = h.dc;
      await launch(dc, PROGRAM);
      const scopes = (await dc.scopesRequest({ frameId: await frameId(dc) })).body.scopes.map((s) => s.name);
      assert.deepEqual(scopes, ['Registers', 'Control registers', 'Translation']);
      const regs = await scopeVars(dc, 'Registers');
      const rip = regs.vars.find((v) => v.name === 'rip')!;
      assert.equal(rip.value, '0x0000000000001000');
      assert.equal(rip.memoryReference, 'gva:1/0:1000');
      const rflags = regs.vars.find((v) => v.name === 'rflags')!;
      assert.ok(rflags.variablesReference > 0);
      const flags = (await dc.variablesRequest({ variablesReference: rflags.variablesReference })).body.variables.map((v) => v.name);
      assert.deepEqual(flags.slice(0, 4), ['CF', 'PF', 'AF', 'ZF']);
      const cr = await scopeVars(dc, 'Control registers');
      const cr0 = cr.vars.find((v) => v.name === 'cr0')!;
      assert.ok(cr0.variablesReference > 0);
      assert.equal(cr.vars.find((v) => v.name === 'paging')?.value, 'off');
      // Paging: count and start.
      const page = await dc.variablesRequest({ variablesReference: regs.ref, start: 2, count: 3 });
      assert.deepEqual(page.body.variables.map((v) => v.name), regs.vars.slice(2, 5).map((v) => v.name));
      await fails(dc.variablesRequest({ variablesReference: 99999 }), /unknown reference/);
    });

    it('setVariable sets registers and flags, refuses control registers; references end at resume', async () => {
      const dc = h.dc;
      await launch(dc, PROGRAM);
      const regs = await scopeVars(dc, 'Registers');
      assert.equal((await dc.setVariableRequest({ variablesReference: regs.ref, name: 'rax', value: '0x40 + 2' })).body.value, '0x42');
      assert.equal((await dc.evaluateRequest({ expression: 'rax', context: 'watch', frameId: await frameId(dc) })).body.result, '0x42');
      const rflags = regs.vars.find((v) => v.name === 'rflags')!;
      assert.equal((await dc.setVariableRequest({ variablesReference: rflags.variablesReference, name: 'CF', value: '1' })).body.value, '1');
      assert.equal((await dc.evaluateRequest({ expression: 'rflags & 1', context: 'watch' })).body.result, '0x1');
      await fails(dc.setVariableRequest({ variablesReference: rflags.variablesReference, name: 'CF', value: '2' }), /1 bit/);
      const cr = await scopeVars(dc, 'Control registers');
      await fails(dc.setVariableRequest({ variablesReference: cr.ref, name: 'cr0', value: '0' }), /read-only/);
      await fails(dc.setVariableRequest({ variablesReference: regs.ref, name: 'rax', value: 'nosuch' }), /nosuch/);
      const stopped = dc.waitForEvent('stopped');
      await dc.nextRequest({ threadId: 1, granularity: 'instruction' });
      await stopped;
      await fails(dc.variablesRequest({ variablesReference: regs.ref }), /unknown reference/);
    });

    it('evaluate: console commands in the repl, expressions in watch and hover, errors as error responses', async () => {
      const dc = h.dc;
      await launch(dc, PROGRAM);
      const fid = await frameId(dc);
      const ev = async (expression: string, context: string): Promise<string> => (await dc.evaluateRequest({ expression, context, frameId: fid })).body.result;
      assert.match(await ev('help', 'repl'), /walk <gva>/);
      assert.match(await ev('info vm', 'repl'), /native mode/);
      assert.match(await ev('exits', 'repl'), /no VM exits/);
      assert.match(await ev('tlb', 'repl'), /TLB of vm1\/vcpu0/);
      assert.ok((await ev('walk 0x1000', 'repl')).length > 0);
      assert.equal(await ev('rip + 1', 'watch'), '0x1001');
      assert.match(await ev('add3', 'hover'), /^0x[0-9a-f]+ {2}\(\d+\)$/);
      assert.equal(await ev('qword [data]', 'watch'), '0x1122334455667788');
      assert.equal(await ev('byte [data]', 'watch'), '0x88');
      const r = await dc.evaluateRequest({ expression: 'data', context: 'watch', frameId: fid });
      assert.match(r.body.memoryReference ?? '', /^gva:1\/0:[0-9a-f]+$/);
      await fails(dc.evaluateRequest({ expression: 'nosuch + 1', context: 'watch', frameId: fid }), /nosuch/);
      await fails(dc.evaluateRequest({ expression: 'info nothing', context: 'repl', frameId: fid }), /info vm/);
      await fails(dc.evaluateRequest({ expression: '1 +', context: 'hover', frameId: fid }), /./);
    });

    it('readMemory/writeMemory in gva, gpa and mpa; unreadable ranges are reported, not zeros', async () => {
      const dc = h.dc;
      await launch(dc, PROGRAM);
      const data = BigInt((await dc.evaluateRequest({ expression: 'data', context: 'watch' })).body.result);
      const at = (space: string): string => (space === 'gva' ? `gva:1/0:0x${data.toString(16)}` : space === 'gpa' ? `gpa:1:0x${data.toString(16)}` : `mpa:0x${data.toString(16)}`);
      for (const space of ['gva', 'gpa', 'mpa']) {
        const r = await readMem(dc, { memoryReference: at(space), count: 8 });
        assert.deepEqual(bytesOf(r.body?.data), [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11], space);
        assert.equal(r.body?.address, '0x' + data.toString(16));
        assert.equal(r.body?.unreadableBytes, undefined);
      }
      const w = await writeMem(dc, { memoryReference: at('gva'), offset: 2, data: b64([0xaa, 0xbb]) });
      assert.equal(w.body?.bytesWritten, 2);
      assert.equal((await dc.evaluateRequest({ expression: 'qword [data]', context: 'watch' })).body.result, '0x11223344bbaa7788');
      // A bare address is a gva of the stopped thread; offsets apply.
      const bare = await readMem(dc, { memoryReference: '0x' + data.toString(16), offset: 4, count: 2 });
      assert.deepEqual(bytesOf(bare.body?.data), [0x44, 0x33]);
      // The end of machine memory: readable part, then the unreadable count.
      const tail = await readMem(dc, { memoryReference: `mpa:0x${(MEM_END - 16).toString(16)}`, count: 48 });
      assert.equal(bytesOf(tail.body?.data).length, 16);
      assert.equal(tail.body?.unreadableBytes, 32);
      // Starting unreadable: no data, the leading unreadable run to skip.
      const beyond = await readMem(dc, { memoryReference: `mpa:0x${MEM_END.toString(16)}`, count: 100 });
      assert.equal(bytesOf(beyond.body?.data).length, 0);
      assert.equal(beyond.body?.unreadableBytes, 100);
      await fails(writeMem(dc, { memoryReference: `mpa:0x${(MEM_END - 1).toString(16)}`, data: b64([1, 2]) }), /cannot write/);
      await fails(readMem(dc, { memoryReference: 'bogus:12', count: 4 }), /memory reference|bogus/);
      await fails(readMem(dc, { memoryReference: 'gva:1/0:0x1000' } as DebugProtocol.ReadMemoryArguments), /count/);
    });

    it('disassembles from the instruction pointer with source locations, and backwards', async () => {
      const dc = h.dc;
      const program = await launch(dc, PROGRAM);
      const f = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
      const r = await dc.disassembleRequest({ memoryReference: f.instructionPointerReference!, instructionCount: 4 } as DebugProtocol.DisassembleArguments);
      const ins = r.body!.instructions;
      assert.equal(ins.length, 4);
      assert.equal(ins[0].address, '0x1000');
      assert.match(ins[0].instruction, /mov\s+rsp/);
      assert.equal(ins[0].line, 3);
      assert.equal(ins[0].location?.path, program);
      assert.equal(ins[1].line, 4);
      assert.equal(ins[0].symbol, '_start');
      const back = await dc.disassembleRequest({ memoryReference: ins[2].address, instructionOffset: -2, instructionCount: 2 } as DebugProtocol.DisassembleArguments);
      assert.deepEqual(back.body!.instructions.map((x) => x.address), [ins[0].address, ins[1].address]);
      const far = await dc.disassembleRequest({ memoryReference: `gva:1/0:0x${MEM_END.toString(16)}`, instructionCount: 2 } as DebugProtocol.DisassembleArguments);
      assert.ok(far.body!.instructions.every((x) => x.presentationHint === 'invalid'));
      await fails(dc.disassembleRequest({ memoryReference: 'mpa:0x1000', instructionCount: 2 } as DebugProtocol.DisassembleArguments), /guest-virtual/);
    });

    it('answers the views\' custom requests and refuses unknown ones', async () => {
      const dc = h.dc;
      await launch(dc, PROGRAM);
      const req = async (command: string, args: object = {}): Promise<Record<string, unknown>> => (await dc.customRequest(command, args)).body as Record<string, unknown>;
      assert.deepEqual(await req('vmem/tableRoots'), [] as unknown as Record<string, unknown>);
      const walk = await req('vmem/walk', { vm: 1, vcpu: 0, gva: '0x1000' });
      assert.equal(walk.ok, true);
      assert.equal(walk.gpa, 0x1000);
      const tlb = await req('vmem/tlb', { vm: 1, vcpu: 0 });
      assert.ok(Array.isArray(tlb.entries));
      const ev = await req('vmem/events', { limit: 10 });
      assert.equal(typeof ev.total, 'number');
      const stats = await req('vmem/statistics');
      assert.ok(Array.isArray(stats.vms));
      assert.equal((stats.vms as { mode: string }[])[0].mode, 'native');
      const fm = await req('vmem/frameMap');
      assert.equal(fm.native, true);
      await fails(dc.customRequest('vmem/tableEntries', { vm: 1, kind: 'bogus', address: 0, level: 4 }), /kind/);
      await fails(dc.customRequest('vmem/walk', { vm: 7, vcpu: 0, gva: 0 }), /no VM 7/);
      await fails(dc.customRequest('vmem/nothing', {}), /unrecognized/);
    });

    it('sends throttled statistics events and progress for a long continue; cancelling the progress pauses', async () => {
      const dc = h.dc;
      const seen: string[] = [];
      dc.on('vmem/statistics', () => seen.push('statistics'));
      await launch(dc, LOOP, { supportsProgressReporting: true }, false, { maxSteps: 1e13 });
      const start = (await dc.waitForEvent('progressStart', 5000)) as DebugProtocol.ProgressStartEvent;
      assert.equal(start.body.cancellable, true);
      const t0 = seen.length;
      await new Promise((r) => setTimeout(r, 1100));
      const perSecond = seen.length - t0;
      assert.ok(perSecond >= 1 && perSecond <= 4, `statistics events in ~1 s: ${perSecond}`);
      const stopped = dc.waitForEvent('stopped');
      const end = dc.waitForEvent('progressEnd');
      await dc.send('cancel', { progressId: start.body.progressId });
      assert.equal(((await stopped) as DebugProtocol.StoppedEvent).body.reason, 'pause');
      assert.equal(((await end) as DebugProtocol.ProgressEndEvent).body.progressId, start.body.progressId);
      const stats = (await dc.customRequest('vmem/statistics')).body as { instructions: number };
      assert.ok(stats.instructions > 100_000);
    });
  });
}
