// The extension as VS Code sees it: it activates, its manifest's contributions are live, and
// the `vmem` debugger really debugs a guest program from the workspace the runner opened
// (a copy of examples/).
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { nextEvent, stopsOf, workspaceFolder } from './hostHelpers';

const EXTENSION_ID = 'vmem.vmem-debugger';

interface Manifest {
  main: string;
  contributes: {
    commands?: { command: string; title: string; category?: string }[];
    debuggers?: { type: string; program?: string; label: string }[];
  };
}

function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not installed in this extension host`);
  return ext;
}

function manifest(): Manifest {
  return extension().packageJSON as Manifest;
}

describe('activation', () => {
  it('activates without throwing', async () => {
    await extension().activate();
    assert.equal(extension().isActive, true);
  });

  it('ships its bundled entry points', () => {
    const root = extension().extensionPath;
    assert.ok(existsSync(join(root, manifest().main)), `main ${manifest().main} missing`);
    for (const d of manifest().contributes.debuggers ?? []) {
      if (d.program) assert.ok(existsSync(join(root, d.program)), `debugger program ${d.program} missing`);
    }
  });

  it('contributes the `vmem` debugger', () => {
    const types = (manifest().contributes.debuggers ?? []).map((d) => d.type);
    assert.deepEqual(types, ['vmem']);
  });

  describe('every contributed command is registered and in the VMem category', () => {
    const commands = (vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON as Manifest | undefined)?.contributes.commands ?? [];
    it('contributes at least one command', () => assert.ok(commands.length > 0));
    for (const c of commands) {
      it(`${c.command} — ${c.title}`, async () => {
        await extension().activate();
        assert.match(c.command, /^vmem\./);
        assert.equal(c.category, 'VMem');
        const registered = await vscode.commands.getCommands(true);
        assert.ok(registered.includes(c.command), `${c.command} is contributed but not registered`);
      });
    }
  });

  it('debugs a guest program: stops on entry on thread vm1/vcpu0, then ends when stopped', async () => {
    const folder = workspaceFolder();
    const program = join(folder.uri.fsPath, 'two-processes.s');
    const stops = stopsOf('vmem');
    try {
      const started = nextEvent(vscode.debug.onDidStartDebugSession);
      const ok = await vscode.debug.startDebugging(folder, {
        type: 'vmem',
        request: 'launch',
        name: 'activation test',
        program,
        mode: 'shadow',
        stopOnEntry: true,
      });
      assert.equal(ok, true, 'startDebugging refused the configuration');
      const session = await started;
      assert.equal(session.type, 'vmem');
      const stop = await stops.next();
      assert.equal(stop.reason, 'entry');
      const threads = (await session.customRequest('threads')) as { threads: { id: number; name: string }[] };
      assert.ok(
        threads.threads.some((t) => t.name === 'vm1/vcpu0'),
        `threads: ${threads.threads.map((t) => t.name).join(', ')}`,
      );
      const ended = nextEvent(vscode.debug.onDidTerminateDebugSession, (s) => s.id === session.id);
      await vscode.debug.stopDebugging(session);
      await ended;
    } finally {
      stops.dispose();
    }
  });
});
