// Starts the bundled adapter (dist/debugAdapter.js, built by `npm run build` / pretest) for
// DebugClient tests: over stdio, or as a socket server on a free loopback port.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

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
  // Port 0: the OS picks a free port and the adapter says which (a random fixed port could be taken).
  const child: ChildProcess = spawn('node', [ADAPTER, '--server=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const port = await new Promise<number>((ok, fail) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += String(d);
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) ok(Number(m[1]));
    });
    child.on('exit', (code) => fail(new Error(`adapter exited with ${code}: ${stderr}`)));
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

/**
 * A fresh adapter for each test of the enclosing describe, stopped after it: no test sees
 * another's session. Call inside describe(); read dc only inside tests (it is the current one's).
 */
export function adapterPerTest(transport: Transport = 'stdio'): { readonly dc: DebugClient } {
  let current: Harness | undefined;
  beforeEach(async () => {
    current = await startAdapter(transport);
  });
  afterEach(async () => {
    await current?.stop();
    current = undefined;
  });
  return {
    get dc(): DebugClient {
      if (!current) throw new Error('adapterPerTest: dc is only there while a test runs');
      return current.dc;
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

/** Launches and waits for the first stop; breakpoints are set between initialized and configurationDone. */
export async function launchAndStop(dc: DebugClient, args: Record<string, unknown>, setup?: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
  const stopped = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  await Promise.all([
    dc.waitForEvent('initialized').then(async () => {
      await setup?.();
      await dc.configurationDoneRequest();
    }),
    dc.initializeRequest().then(() => dc.launchRequest(args as DebugProtocol.LaunchRequestArguments)),
  ]);
  return stopped;
}

export async function topFrame(dc: DebugClient, threadId = 1): Promise<DebugProtocol.StackFrame> {
  const st = await dc.stackTraceRequest({ threadId });
  return st.body.stackFrames[0];
}

/** Sends a request that resumes and waits for the stop it ends in. */
export async function act(dc: DebugClient, request: Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
  const stopped = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  await request;
  return stopped;
}

/** An expression's value on a thread's top frame, as the Debug Console prints it. */
export async function evaluate(dc: DebugClient, expression: string, threadId = 1): Promise<string> {
  const f = await topFrame(dc, threadId);
  return (await dc.evaluateRequest({ expression, frameId: f.id, context: 'watch' })).body.result;
}
