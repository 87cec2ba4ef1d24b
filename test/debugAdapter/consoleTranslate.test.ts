// The Debug Console's `translate <gva>` (alias `xlat`) over DAP: it prints what `walk` prints and
// sends `vmem/showTranslation` {vm, vcpu, gva, access, user} before its evaluate response, so the
// client can open its Address Translation view; nothing else sends that event. Variables whose
// value is a gva carry the menu context "gva" (VS Code's "VMem: Show Address Translation").
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { ROOT, adapterPerTest, launchAndStop, topFrame } from './adapterHarness';
import type { ShowTranslationWire } from '../../src/debugAdapter/viewsProtocol';

const INIT: DebugProtocol.InitializeRequestArguments = { adapterID: 'vmem', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true };
const EVENT = 'vmem/showTranslation';

/** Shadow mode, stopped at the first hidden page fault of two-processes.s (a fetch at 0x10131). */
async function stopAtHiddenFault(dc: DebugClient): Promise<number> {
  await launchAndStop(dc, { program: join(ROOT, 'examples/two-processes.s'), mode: 'shadow' }, () =>
    dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'pf-hidden' }] }),
  );
  return (await topFrame(dc)).id;
}

/** Every event of `name` the adapter sends from now on. */
function collect(dc: DebugClient, name: string): DebugProtocol.Event[] {
  const got: DebugProtocol.Event[] = [];
  dc.on(name, (e: DebugProtocol.Event) => got.push(e));
  return got;
}

async function repl(dc: DebugClient, frameId: number, expression: string, context = 'repl'): Promise<string> {
  return (await dc.evaluateRequest({ expression, frameId, context })).body.result;
}

/** Lets an event sent after a response arrive (it would break the "before the response" order). */
const settle = (): Promise<void> => new Promise((ok) => setTimeout(ok, 100));

describe('debug console: translate', function () {
  this.timeout(30_000);
  const h = adapterPerTest();

  // gva 'rip': the vCPU's rip as the console reads it (`walk rip`'s header; in watch, the stop
  // event's `rip` field would win over the register).
  const cases: { line: string; walk: string; gva: string; access: ShowTranslationWire['access']; user: boolean }[] = [
    { line: 'translate 0x10131 fetch', walk: 'walk 0x10131 fetch', gva: '0x10131', access: 'fetch', user: false },
    { line: 'xlat 0x8fff8', walk: 'walk 0x8fff8', gva: '0x8fff8', access: 'read', user: false },
    { line: 'translate rsp - 8 write user', walk: 'walk rsp - 8 write user', gva: '0x8fff8', access: 'write', user: true },
    { line: 'TRANSLATE rip', walk: 'walk rip', gva: 'rip', access: 'read', user: false },
  ];

  it('prints the walk and sends vmem/showTranslation before its response, for each form of the line', async () => {
    const dc = h.dc;
    await dc.initializeRequest(INIT);
    const fid = await stopAtHiddenFault(dc);
    const rip = BigInt(/^gva (0x[0-9a-f]+)/.exec(await repl(dc, fid, 'walk rip'))![1]);
    for (const c of cases) {
      const gva = c.gva === 'rip' ? '0x' + rip.toString(16) : c.gva;
      const events = collect(dc, EVENT);
      let seenBeforeResponse = false;
      const response = dc.evaluateRequest({ expression: c.line, frameId: fid, context: 'repl' }).then((r) => {
        seenBeforeResponse = events.length === 1;
        return r;
      });
      const text = (await response).body.result;
      await settle();
      dc.removeAllListeners(EVENT);
      assert.equal(text, await repl(dc, fid, c.walk), `${c.line}: the same text as ${c.walk}`);
      assert.match(text, new RegExp(`^gva 0x0*${gva.slice(2)} {2}vm1/vcpu0 {2}shadow mode`));
      assert.equal(events.length, 1, `${c.line}: one event`);
      assert.ok(seenBeforeResponse, `${c.line}: the event comes before the response`);
      assert.deepEqual(events[0].body, { vm: 1, vcpu: 0, gva, access: c.access, user: c.user } satisfies ShowTranslationWire);
    }
  });

  it('sends nothing for walk, other commands, expressions, other contexts or a line that fails', async () => {
    const dc = h.dc;
    await dc.initializeRequest(INIT);
    const fid = await stopAtHiddenFault(dc);
    const events = collect(dc, EVENT);
    for (const line of ['walk 0x10131', 'pte 0x10131', 'tlb', 'rip', 'help']) await repl(dc, fid, line);
    assert.match(await repl(dc, fid, 'help'), /translate <gva> \[read\|write\|fetch\] \[user\] {3}\(alias xlat\)/);
    // In watch and hover, `translate` is not a command: an expression, and not a valid one.
    for (const context of ['watch', 'hover']) await assert.rejects(dc.evaluateRequest({ expression: 'translate 0x10131', frameId: fid, context }));
    await assert.rejects(dc.evaluateRequest({ expression: 'translate', frameId: fid, context: 'repl' }), /expected a guest-virtual address/);
    await assert.rejects(dc.evaluateRequest({ expression: 'xlat no_such_label', frameId: fid, context: 'repl' }));
    await settle();
    assert.deepEqual(events, []);
  });

  it('names the vCPU of the frame the line was evaluated in (a two-VM scenario)', async () => {
    const dc = h.dc;
    await dc.initializeRequest(INIT);
    await launchAndStop(dc, { program: join(ROOT, 'examples/two-vms.json'), stopOnEntry: true });
    const threads = (await dc.threadsRequest()).body.threads;
    // Threads are named by VM: shadowed/vcpu0, nested/vcpu0.
    const second = threads.find((t) => t.name === 'nested/vcpu0');
    assert.ok(second, `the second VM's thread in ${threads.map((t) => t.name).join(', ')}`);
    const events = collect(dc, EVENT);
    const fid = (await topFrame(dc, second.id)).id;
    const text = await repl(dc, fid, 'translate 0x2000 write');
    await settle();
    assert.match(text, /^gva 0x0000000000002000 {2}vm2\/vcpu0 /);
    assert.equal(events.length, 1);
    assert.deepEqual(events[0].body, { vm: 2, vcpu: 0, gva: '0x2000', access: 'write', user: false } satisfies ShowTranslationWire);
  });

  it('marks variables whose value is a gva with the menu context "gva", and only those', async () => {
    const dc = h.dc;
    await dc.initializeRequest(INIT);
    const fid = await stopAtHiddenFault(dc);
    const scopes = (await dc.scopesRequest({ frameId: fid })).body.scopes;
    const vars = async (scope: string): Promise<(DebugProtocol.Variable & { __vscodeVariableMenuContext?: string })[]> => {
      const s = scopes.find((x) => x.name === scope);
      assert.ok(s, scope);
      return (await dc.variablesRequest({ variablesReference: s.variablesReference })).body.variables;
    };
    const marked = (v: { __vscodeVariableMenuContext?: string }): boolean => v.__vscodeVariableMenuContext === 'gva';
    const regs = await vars('Registers');
    assert.deepEqual(regs.filter(marked).map((v) => v.name), regs.filter((v) => v.memoryReference?.startsWith('gva:')).map((v) => v.name));
    for (const name of ['rax', 'rsp', 'rip']) assert.ok(marked(regs.find((v) => v.name === name)!), `${name} is a gva`);
    for (const name of ['rflags', 'cpl']) assert.ok(!marked(regs.find((v) => v.name === name)!), `${name} is not an address`);
    const crs = await vars('Control registers');
    assert.deepEqual(crs.filter(marked).map((v) => v.name), ['cr2'], 'cr2 only: cr3 holds a physical address');
    const translation = await vars('Translation');
    assert.deepEqual(translation.filter(marked).map((v) => v.name), ['address']);
    const exit = await vars('Last VM exit');
    assert.deepEqual(exit.filter(marked).map((v) => v.name), ['guest-linear address']);
  });
});
