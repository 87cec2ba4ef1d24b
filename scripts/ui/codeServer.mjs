// A throw-away code-server (a real VS Code 1.100 workbench served to a browser) and a headless
// Chromium driven by playwright-core: what the extension-host tests, the UI tests and
// `npm start` share. docs/testing.md explains the choices; ../../TESTING notes in the steering
// repo list the pitfalls each line here avoids.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const TOOLS = join(ROOT, 'tools/ui');
export const CODE_SERVER = join(TOOLS, 'node_modules/.bin/code-server');
export const CHROMIUM = process.env.VMEM_CHROMIUM ?? '/usr/bin/chromium';

/** A fresh directory under the system temp folder; the caller removes it (see `removeDir`). */
export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), `vmem-${prefix}-`));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** A port nobody listens on now: the kernel picks one for a moment, then lets it go. */
export async function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/** `preferred` if it is free on 127.0.0.1, else the next free one above it. */
export async function portFrom(preferred) {
  for (let port = preferred; port < preferred + 100; port++) {
    const free = await new Promise((ok) => {
      const srv = createServer();
      srv.once('error', () => ok(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => ok(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${preferred}..${preferred + 99}`);
}

function requireTools() {
  if (!existsSync(CODE_SERVER)) {
    throw new Error(`code-server is not installed in ${TOOLS}: run \`node scripts/ui/setup.mjs\``);
  }
}

/** The per-server folders: settings, extensions and XDG state never touch the user's own. */
export function serverDirs(base) {
  const dirs = { base, userData: join(base, 'user-data'), extensions: join(base, 'extensions'), xdg: join(base, 'xdg') };
  for (const d of [dirs.userData, dirs.extensions, dirs.xdg]) mkdirSync(d, { recursive: true });
  return dirs;
}

function serverEnv(dirs, extra = {}) {
  // XDG_* keep code-server's own config.yaml and state out of the user's home. The extension
  // host inherits this environment: `extra` is how a runner talks to a suite inside it.
  return { ...process.env, XDG_CONFIG_HOME: dirs.xdg, XDG_DATA_HOME: dirs.xdg, ...extra };
}

/** Installs a .vsix into `dirs` (code-server's CLI; ~1 s). `--force` replaces an older copy. */
export function installVsix(dirs, vsix) {
  requireTools();
  const r = spawnSync(
    CODE_SERVER,
    ['--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, '--install-extension', resolve(vsix), '--force'],
    { env: serverEnv(dirs), encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`installing ${vsix} failed (${r.status}):\n${r.stdout}${r.stderr}`);
}

/** Writes settings.json for the server's user: no welcome page, no telemetry prompt, no trust. */
export function writeUserSettings(dirs, settings) {
  const dir = join(dirs.userData, 'User');
  mkdirSync(dir, { recursive: true });
  const all = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'window.restoreWindows': 'none',
    ...settings,
  };
  writeFileSync(join(dir, 'settings.json'), JSON.stringify(all, null, 2));
}

/**
 * Starts code-server in its own session (its own process group, so `stop` ends the extension
 * host and file watchers too) and waits for /healthz.
 * options: { dirs, port?, host?, log? (file path), detached? (survive this process),
 *            env? (extra variables, seen by the extension host too) }
 */
export async function startCodeServer({ dirs, port, host = '127.0.0.1', log, detached = false, env = {} }) {
  requireTools();
  port ??= await freePort();
  const logFile = log ?? join(dirs.base, 'code-server.log');
  const out = createWriteStream(logFile);
  await new Promise((ok) => out.once('open', ok));
  const child = spawn(
    CODE_SERVER,
    [
      '--bind-addr', `${host}:${port}`,
      '--auth', 'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--user-data-dir', dirs.userData,
      '--extensions-dir', dirs.extensions,
    ],
    { env: serverEnv(dirs, env), detached: true, stdio: ['ignore', out, out] },
  );
  if (detached) child.unref();
  const url = `http://${host}:${port}`;
  const exited = new Promise((ok) => child.once('exit', (code, signal) => ok({ code, signal })));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const early = await Promise.race([exited, new Promise((ok) => setTimeout(() => ok(undefined), 250))]);
    if (early) {
      throw new Error(`code-server exited (${early.code ?? early.signal}) before answering; log ${logFile}:\n${tail(logFile)}`);
    }
    if (await healthy(url)) break;
    if (Date.now() > deadline) {
      killGroup(child.pid, 'SIGKILL');
      throw new Error(`code-server did not answer ${url}/healthz in 60 s; log ${logFile}:\n${tail(logFile)}`);
    }
  }
  return {
    url,
    port,
    pid: child.pid,
    log: logFile,
    dirs,
    stop: () => stopGroup(child.pid, exited),
  };
}

async function healthy(url) {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

function tail(file) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

export function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // already gone
  }
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the whole process group, SIGKILL after 5 s for whatever lingers. */
export async function stopGroup(pid, exited) {
  if (!killGroup(pid, 'SIGTERM')) return;
  const deadline = Date.now() + 5000;
  if (exited) await Promise.race([exited, new Promise((ok) => setTimeout(ok, 5000))]);
  while (groupAlive(pid) && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 100));
  if (groupAlive(pid)) killGroup(pid, 'SIGKILL');
}

/**
 * The workbench URL for a folder. code-server's CLI refuses --extensionDevelopmentPath, so a
 * development extension and an extension-test entry travel in the web client's `payload`
 * (what @vscode/test-web does); paths there are vscode-remote URIs on this server.
 */
export function workbenchUrl(server, { folder, extensionDevelopmentPath, extensionTestsPath } = {}) {
  const u = new URL(server.url + '/');
  if (folder) u.searchParams.set('folder', resolve(folder));
  const payload = [];
  const remote = (p) => `vscode-remote://${new URL(server.url).host}${resolve(p)}`;
  if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  if (payload.length > 0) u.searchParams.set('payload', JSON.stringify(payload));
  return u.toString();
}

/** The apt-get line for whatever is missing, prefixed with sudo unless we are root. */
export function aptCommand(packages) {
  const root = process.getuid?.() === 0;
  return `${root ? '' : 'sudo '}apt-get update && ${root ? '' : 'sudo '}apt-get install -y ${packages.join(' ')}`;
}

/** Why no browser can be launched (with the command that installs one), or undefined. */
export function chromiumProblem() {
  if (existsSync(CHROMIUM)) return undefined;
  return `Chromium is missing (${CHROMIUM}): the extension-host and UI tests run VS Code in it. Install it:\n  ${aptCommand(['chromium'])}`;
}

/** playwright-core from tools/ui (never a downloaded browser: executablePath is Debian's). */
export function playwright() {
  requireTools();
  const req = createRequire(join(TOOLS, 'package.json'));
  return req('playwright-core');
}

/**
 * A headless Chromium with a fresh profile (a persistent context: Playwright refuses
 * --user-data-dir in args and supplies it itself).
 */
export async function launchBrowser({ profile, headless = true, viewport = { width: 1600, height: 1000 } } = {}) {
  const problem = chromiumProblem();
  if (problem) throw new Error(problem);
  const { chromium } = playwright();
  const dir = profile ?? tempDir('chromium');
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless,
    viewport,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
  return {
    context,
    page: context.pages()[0] ?? (await context.newPage()),
    profile: dir,
    /**
     * Navigating away first closes the workbench's connection cleanly; closing the browser
     * with the workbench open leaves the extension host waiting out its reconnection grace.
     */
    async close() {
      for (const p of context.pages()) await p.goto('about:blank').catch(() => undefined);
      await context.close().catch(() => undefined);
      if (!profile) removeDir(dir);
    },
  };
}

/** Prints `msg` prefixed with the elapsed seconds, so logs double as timings. */
export function stamp(t0) {
  return (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}`);
}
