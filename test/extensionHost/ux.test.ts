// The debugging UX against the real API: the configuration providers with an example open, a bad
// configuration refused before any session, the adapter inline by default and its other modes,
// inline values at a real stop, Translate Address opening the panel, Compare Modes' report, and
// a walkthrough step starting its example.
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { stopsOf, waitFor, workspaceFolder } from './hostHelpers';
import type { StopQueue } from './hostHelpers';
import { VmemConfigurationProvider, VmemDynamicConfigurationProvider } from '../../src/extension/ux/launch/configProvider';
import { InlineVmemAdapter, VmemAdapterFactory } from '../../src/extension/ux/launch/adapterFactory';

const EXTENSION_ID = 'vmem.vmem-debugger';

async function open(rel: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(join(workspaceFolder().uri.fsPath, rel));
  return vscode.window.showTextDocument(doc, { preview: false });
}

async function stopAll(): Promise<void> {
  while (vscode.debug.activeDebugSession) {
    const s = vscode.debug.activeDebugSession;
    await vscode.debug.stopDebugging(s);
    await waitFor('the session to end', () => (vscode.debug.activeDebugSession === s ? undefined : true), 10_000).catch(() => undefined);
  }
}

function tabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs);
}

describe('ux: debugging UX', function () {
  this.timeout(120_000);
  let stops: StopQueue;

  before(async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)?.activate();
    stops = stopsOf('vmem');
  });
  after(async () => {
    await stopAll();
    stops.dispose();
  });
  afterEach(stopAll);

  it('offers one dynamic configuration per mode for the open example', async () => {
    // Every visible editor's program is offered: leave only this one (an earlier suite's stop may
    // have left a source open in another group).
    await vscode.commands.executeCommand('workbench.action.closeAllGroups');
    await open('sloppy-unsync.s');
    const configs = new VmemDynamicConfigurationProvider().provideDebugConfigurations();
    assert.deepEqual(configs.map((c) => c.name), [
      'Debug sloppy-unsync.s in native mode', 'Debug sloppy-unsync.s in shadow mode', 'Debug sloppy-unsync.s in nested mode', 'Debug sloppy-unsync.s in shadow mode, unsync',
    ]);
  });

  it('F5 with no launch.json builds a launch of the active file', async () => {
    const ed = await open('hello.s');
    const c = new VmemConfigurationProvider().resolveDebugConfiguration(workspaceFolder(), { type: '', request: '', name: '' });
    assert.ok(c);
    assert.equal(c.program, ed.document.uri.fsPath);
    assert.equal(c.stopOnEntry, true);
    assert.equal(c.mode, 'native');
  });

  it('refuses a bad attribute before any session starts', async () => {
    const p = new VmemConfigurationProvider();
    const bad = await p.resolveDebugConfigurationWithSubstitutedVariables(workspaceFolder(), { type: 'vmem', request: 'launch', name: 'bad', program: join(workspaceFolder().uri.fsPath, 'hello.s'), mode: 'turbo' });
    assert.equal(bad, undefined);
    const started = await vscode.debug.startDebugging(workspaceFolder(), { type: 'vmem', request: 'launch', name: 'bad2', program: join(workspaceFolder().uri.fsPath, 'nope.s') });
    assert.equal(started, false);
    assert.equal(vscode.debug.activeDebugSession, undefined);
  });

  it('runs the adapter inline by default; process and server on request', async () => {
    const f = new VmemAdapterFactory(vscode.extensions.getExtension(EXTENSION_ID)!.extensionUri);
    const fake = { workspaceFolder: workspaceFolder() } as vscode.DebugSession;
    const cfg = vscode.workspace.getConfiguration('vmem');
    assert.ok(f.createDebugAdapterDescriptor(fake) instanceof vscode.DebugAdapterInlineImplementation);
    try {
      await cfg.update('debugAdapter.mode', 'process', vscode.ConfigurationTarget.Global);
      const exe = f.createDebugAdapterDescriptor(fake);
      assert.ok(exe instanceof vscode.DebugAdapterExecutable);
      assert.match(exe.args[0], /dist[\\/]debugAdapter\.js$/);
      await cfg.update('debugAdapter.mode', 'server', vscode.ConfigurationTarget.Global);
      await cfg.update('debugAdapter.port', 4999, vscode.ConfigurationTarget.Global);
      const srv = f.createDebugAdapterDescriptor(fake);
      assert.ok(srv instanceof vscode.DebugAdapterServer && srv.port === 4999);
    } finally {
      await cfg.update('debugAdapter.mode', undefined, vscode.ConfigurationTarget.Global);
      await cfg.update('debugAdapter.port', undefined, vscode.ConfigurationTarget.Global);
    }
    // The wrapper speaks DAP by itself: initialize answers with the adapter's capabilities.
    const a = new InlineVmemAdapter();
    const got = new Promise<unknown>((ok) => a.onDidSendMessage((m) => ok(m)));
    a.handleMessage({ seq: 1, type: 'request', command: 'initialize', arguments: { adapterID: 'vmem', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true } } as vscode.DebugProtocolMessage);
    const m = (await got) as { command?: string; success?: boolean; body?: { supportsStepBack?: boolean } };
    assert.equal(m.command, 'initialize');
    assert.equal(m.body?.supportsStepBack, true);
    a.dispose();
  });

  it('the inline adapter debugs an example to a stop, with inline values and Translate Address', async () => {
    const ulib = await open('kernel/ulib.s');
    const line = ulib.document.getText().split('\n').findIndex((l) => /^\s*cmp byte \[rsi\], 0/.test(l));
    assert.ok(line > 0, 'print loop in ulib.s');
    const bp = new vscode.SourceBreakpoint(new vscode.Location(ulib.document.uri, new vscode.Position(line, 0)));
    vscode.debug.addBreakpoints([bp]);
    try {
      const started = await vscode.debug.startDebugging(workspaceFolder(), { type: 'vmem', request: 'launch', name: 'ux hello', program: join(workspaceFolder().uri.fsPath, 'hello.s'), mode: 'shadow' });
      assert.ok(started);
      const stop = await stops.next(60_000);
      assert.equal(stop.reason, 'breakpoint');
      const frames = (await stop.session.customRequest('stackTrace', { threadId: stop.threadId })) as { stackFrames: { id: number; line: number }[] };
      const top = frames.stackFrames[0];
      assert.equal(top.line, line + 1);
      // Wait for VmemSessions to know the stop (the inline values read it).
      const values = await waitFor('inline values with a translation', async () => {
        const v = (await vscode.commands.executeCommand<vscode.InlineValue[]>('vscode.executeInlineValueProvider', ulib.document.uri, new vscode.Range(0, 0, line + 5, 0), { frameId: top.id, stoppedLocation: new vscode.Range(line, 0, line, 0) })) ?? [];
        const texts = v.filter((x): x is vscode.InlineValueText => x instanceof vscode.InlineValueText || 'text' in x);
        return texts.some((t) => /gva/.test(t.text)) ? v : undefined;
      }, 20_000);
      const text = values.find((x): x is vscode.InlineValueText => 'text' in x && /gva/.test((x as vscode.InlineValueText).text))!.text;
      const rsi = (await stop.session.customRequest('evaluate', { expression: 'rsi', frameId: top.id, context: 'watch' })) as { result: string };
      assert.match(text, new RegExp(`^byte \\[rsi\\] = gva ${rsi.result} → gpa 0x[0-9a-f]+ → mpa 0x[0-9a-f]+`));
      assert.ok(values.some((x) => 'variableName' in x && (x as vscode.InlineValueVariableLookup).variableName === 'rsi'), 'rsi looked up');

      const gva = await vscode.commands.executeCommand<string | undefined>('vmem.translateAddress', 'rsi + 1');
      assert.equal(gva, '0x' + (BigInt(rsi.result) + 1n).toString(16));
      await waitFor('the Address Translation panel', () => (tabs().some((t) => t.input instanceof vscode.TabInputWebview && /translation/i.test(t.label)) ? true : undefined));
    } finally {
      vscode.debug.removeBreakpoints([bp]);
    }
  });

  it('Compare Modes reports every mode in a read-only preview', async () => {
    const ed = await open('demand-paging.s');
    const report = await vscode.commands.executeCommand<string | undefined>('vmem.compareModes', ed.document.uri);
    assert.ok(report);
    assert.match(report, /\n\s+native\s+shadow\s+nested\s+paravirt\n/);
    assert.match(report, /true page faults\s+9\s+9\s+9\s+9/);
    assert.match(report, /2-D page walks/);
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: 'vmem-report', path: '/Compare modes — demand-paging.s.md' }));
    assert.equal(doc.getText(), report);
    await waitFor('the report preview', () => (tabs().some((t) => /Compare modes/.test(t.label)) ? true : undefined));
  });

  it('a walkthrough step opens its example and starts it in its mode', async () => {
    const ok = await vscode.commands.executeCommand<boolean>('vmem.walkthrough.debugStep', 'cr3Switch');
    assert.equal(ok, true);
    const stop = await stops.next(60_000);
    assert.equal(stop.reason, 'entry');
    assert.equal(stop.session.configuration.mode, 'shadow');
    assert.ok(tabs().some((t) => t.input instanceof vscode.TabInputText && /two-processes\.s$/.test(t.input.uri.fsPath)), 'the example is open');
  });
});
