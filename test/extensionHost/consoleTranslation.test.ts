// From the debugger to the Address Translation panel, in the real extension host: `translate` typed
// in the Debug Console (an evaluate with context repl, as the console sends it) opens the panel on
// that walk; "Translate Address…" offers what the console printed; VARIABLES' "Show Address
// Translation" opens a register's gva. "The panel is on that gva" is observed on the wire: the
// panel asks the adapter for vmem/walk of exactly that gva and access.
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { stopsOf, waitFor, workspaceFolder } from './hostHelpers';
import type { StopQueue, StoppedEvent } from './hostHelpers';
import type { VmemExtensionApi } from '../../src/extension/extension';
import type { WalkArgs } from '../../src/debugAdapter/viewsProtocol';

const EXTENSION_ID = 'vmem.vmem-debugger';

/** Every vmem/walk request the client sends (the panel's, the views'). */
function walksAsked(): { walks: WalkArgs[]; dispose(): void } {
  const walks: WalkArgs[] = [];
  const reg = vscode.debug.registerDebugAdapterTrackerFactory('vmem', {
    createDebugAdapterTracker: () => ({
      onWillReceiveMessage: (m: unknown) => {
        const r = m as { type?: string; command?: string; arguments?: WalkArgs };
        if (r.type === 'request' && r.command === 'vmem/walk' && r.arguments) walks.push(r.arguments);
      },
    }),
  });
  return { walks, dispose: () => reg.dispose() };
}

function translationTab(): vscode.Tab | undefined {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && /Address Translation/.test(t.label));
}

async function stopAll(): Promise<void> {
  while (vscode.debug.activeDebugSession) {
    const s = vscode.debug.activeDebugSession;
    await vscode.debug.stopDebugging(s);
    await waitFor('the session to end', () => (vscode.debug.activeDebugSession === s ? undefined : true), 10_000).catch(() => undefined);
  }
}

const sameGva = (a: WalkArgs['gva'], b: string): boolean => BigInt(a) === BigInt(b);

describe('console: from the Debug Console to the Address Translation panel', function () {
  this.timeout(120_000);
  let stops: StopQueue;
  let api: VmemExtensionApi;
  let asked: ReturnType<typeof walksAsked>;
  let stop: StoppedEvent;
  let frameId: number;

  const repl = async (expression: string): Promise<string> =>
    ((await stop.session.customRequest('evaluate', { expression, frameId, context: 'repl' })) as { result: string }).result;

  /** Waits for the panel's walk of `gva` (asked after `from` requests had been seen). */
  const panelWalks = (gva: string, access: string, from: number): Promise<WalkArgs> =>
    waitFor(`the panel's vmem/walk of ${gva} (${access})`, () => asked.walks.slice(from).find((w) => sameGva(w.gva, gva) && w.access === access), 15_000);

  before(async () => {
    api = (await vscode.extensions.getExtension<VmemExtensionApi>(EXTENSION_ID)!.activate());
    stops = stopsOf('vmem');
    asked = walksAsked();
    // Stopped on entry: paging is off, so every gva translates (gva = gpa) and the stop has no fault to focus on.
    const started = await vscode.debug.startDebugging(workspaceFolder(), { type: 'vmem', request: 'launch', name: 'console translate', program: join(workspaceFolder().uri.fsPath, 'two-processes.s'), mode: 'shadow', stopOnEntry: true });
    assert.ok(started);
    stop = await stops.next(60_000);
    await waitFor('VmemSessions to know the stop', () => api.sessions.state);
    const frames = (await stop.session.customRequest('stackTrace', { threadId: stop.threadId })) as { stackFrames: { id: number }[] };
    frameId = frames.stackFrames[0].id;
  });
  after(async () => {
    await stopAll();
    asked?.dispose();
    stops?.dispose();
  });

  it('translate 0x… write in the console prints the walk and opens the panel on it', async () => {
    const from = asked.walks.length;
    const text = await repl('translate 0x10010 write');
    assert.match(text, /^gva 0x0000000000010010 {2}vm1\/vcpu0 {2}shadow mode, paging off {2}\(write; probe/);
    const walk = await panelWalks('0x10010', 'write', from);
    assert.equal(walk.vm, 1);
    assert.equal(walk.vcpu, 0);
    await waitFor('the Address Translation tab', translationTab);
  });

  it('xlat with an expression: the panel follows with the evaluated gva (64-bit, as rsp - 16 wraps on entry)', async () => {
    const rsp = BigInt(((await stop.session.customRequest('evaluate', { expression: 'rsp', frameId, context: 'watch' })) as { result: string }).result);
    const from = asked.walks.length;
    await repl('xlat rsp - 16 fetch');
    await panelWalks('0x' + BigInt.asUintN(64, rsp - 16n).toString(16), 'fetch', from);
  });

  it('"Translate Address…" offers the address a console walk printed, newest first', async () => {
    assert.match(await repl('walk 0x10abc'), /^gva 0x0000000000010abc /);
    const from = asked.walks.length;
    const picked = vscode.commands.executeCommand<string | undefined>('vmem.translateAddress');
    await new Promise((ok) => setTimeout(ok, 700)); // the picker opens
    // Its first row is the stop's address when the stop has one, then the console's newest.
    if (api.sessions.state?.focusAddress) await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    assert.equal(await picked, '0x10abc');
    await panelWalks('0x10abc', 'read', from);
  });

  it('VARIABLES\' "Show Address Translation" on rip opens its fetch walk', async () => {
    const scopes = (await stop.session.customRequest('scopes', { frameId })) as { scopes: { name: string; variablesReference: number }[] };
    const registers = scopes.scopes.find((s) => s.name === 'Registers')!;
    const vars = (await stop.session.customRequest('variables', { variablesReference: registers.variablesReference })) as { variables: { name: string; value: string; memoryReference?: string; __vscodeVariableMenuContext?: string }[] };
    const rip = vars.variables.find((v) => v.name === 'rip')!;
    assert.equal(rip.__vscodeVariableMenuContext, 'gva', 'the menu shows on rip');
    const from = asked.walks.length;
    // What VS Code passes to a debug/variables/context command.
    const gva = await vscode.commands.executeCommand<string | undefined>('vmem.showVariableTranslation', { sessionId: stop.session.id, container: registers, variable: rip });
    assert.equal(gva, '0x' + BigInt(rip.value).toString(16));
    await panelWalks(gva, 'fetch', from);
  });
});
