// Starts the bundled adapter (dist/debugAdapter.js, built by `npm run build` / pretest) for
// DebugClient tests: over stdio, or as a socket server on a free loopback port.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';

export const ROOT = resolve(__dirname, '../../..');
export const ADAPTER = join(ROOT, 'dist/debugAdapter.js');

export type Transport = 'stdio' | 'socket';

export interface Harness {
  dc: DebugClient;
  stop(): Promise<void>;
}

export async function startAdapter(transport: Transport): Promise<Harness> {
  if (!existsSync(ADAPTER)) throw new Error(`${ADAPTER} is missing: run npm run build first`);
  const dc = new DebugClient('node', ADAPTER, 'vmem');
  dc.defaultTimeout = 10_000;
  if (transport === 'stdio') {
    await dc.start();
    return { dc, stop: () => dc.stop() };
  }
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child: ChildProcess = spawn('node', [ADAPTER, `--server=${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((ok, fail) => {
    child.stderr!.on('data', (d: Buffer) => (String(d).includes('listening') ? ok() : undefined));
    child.on('exit', (code) => fail(new Error(`adapter exited with ${code}`)));
  });
  await dc.start(port);
  return {
    dc,
    stop: async () => {
      await dc.stop();
      child.kill();
    },
  };
}

/** Writes a guest program into a fresh temporary directory; returns its path. */
export function writeProgram(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'vmem-dap-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
