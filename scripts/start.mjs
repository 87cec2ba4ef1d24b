// `npm start`: from a fresh clone to the examples open in VS Code with the extension loaded.
//   1. npm ci when node_modules is missing or older than package-lock.json
//   2. npm run package (the production bundles and the .vsix)
//   3. a local VS Code (`code` on PATH): install the .vsix there and open examples/ — done.
//      Otherwise: install code-server into tools/ui (scripts/ui/setup.mjs), start it on
//      127.0.0.1:8080 (or the next free port) with the .vsix installed and examples/ open,
//      print the address, and keep it running until Ctrl-C.
//
//   npm start -- --detach        start the server in the background, print the address, exit
//   npm start -- --code-server   use code-server even where a local `code` exists
//   npm start -- --port 9000     first port to try
//   npm run stop                 stop a detached server (node scripts/start.mjs --stop)
//
// The server's settings and extensions live in .vscode-test/code-server/ (gitignored), so they
// persist between starts; its log is .vscode-test/code-server/code-server.log.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STATE_DIR = join(ROOT, '.vscode-test/code-server');
const STATE = join(STATE_DIR, 'server.json');
const EXAMPLES = join(ROOT, 'examples');

const { values: opts } = parseArgs({
  options: {
    detach: { type: 'boolean', default: false },
    stop: { type: 'boolean', default: false },
    'code-server': { type: 'boolean', default: false },
    port: { type: 'string', default: '8080' },
  },
});

function say(msg) {
  console.log(`vmem: ${msg}`);
}

function sh(cmd, args, what) {
  say(what);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${[cmd, ...args].join(' ')} failed (exit ${r.status ?? r.signal})`);
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function dependenciesStale() {
  const stamp = join(ROOT, 'node_modules/.package-lock.json');
  return !existsSync(stamp) || statSync(stamp).mtimeMs < statSync(join(ROOT, 'package-lock.json')).mtimeMs;
}

function vsixPath() {
  const { name, version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  return join(ROOT, `${name}-${version}.vsix`);
}

function readState() {
  try {
    return JSON.parse(readFileSync(STATE, 'utf8'));
  } catch {
    return undefined;
  }
}

async function stop() {
  // Only after npm ci has run: codeServer.mjs is plain node, but keep the import lazy anyway.
  const { stopGroup } = await import('./ui/codeServer.mjs');
  const state = readState();
  if (!state) {
    say('no code-server started by `npm start` is running');
    return;
  }
  await stopGroup(state.pid);
  rmSync(STATE, { force: true });
  say(`stopped the code-server at ${state.url}`);
}

async function main() {
  if (opts.stop) return stop();

  if (dependenciesStale()) sh('npm', ['ci', '--no-audit', '--no-fund'], 'installing dependencies (npm ci)');
  sh('npm', ['run', '--silent', 'package'], 'building and packaging the extension (npm run package)');
  const vsix = vsixPath();

  if (have('code') && !opts['code-server']) {
    sh('code', ['--install-extension', vsix, '--force'], `installing ${vsix} into your VS Code`);
    sh('code', [EXAMPLES], 'opening examples/ in VS Code');
    say('open a guest program (e.g. two-processes.s) and press F5');
    return;
  }

  const { setup } = await import('./ui/setup.mjs');
  const cs = await import('./ui/codeServer.mjs');
  setup({ browser: false });
  if (readState()) await stop(); // a server from an earlier start holds the old .vsix
  const dirs = cs.serverDirs(STATE_DIR);
  if (!existsSync(join(dirs.userData, 'User/settings.json'))) cs.writeUserSettings(dirs, {});
  cs.installVsix(dirs, vsix);
  const port = await cs.portFrom(Number(opts.port));
  const server = await cs.startCodeServer({ dirs, port, detached: opts.detach, log: join(STATE_DIR, 'code-server.log') });
  writeFileSync(STATE, JSON.stringify({ pid: server.pid, url: server.url, started: new Date().toISOString() }, null, 2));
  const address = `${server.url}/?folder=${encodeURI(EXAMPLES)}`;
  console.log(`\nVMem Debugger is running in VS Code (code-server) with the examples open:\n\n    ${address}\n`);
  console.log('Open a guest program (e.g. two-processes.s) and press F5.');
  if (opts.detach) {
    console.log('Stop the server with:  npm run stop\n');
    return;
  }
  console.log('Press Ctrl-C to stop.\n');
  await new Promise((ok) => {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, ok);
  });
  await server.stop();
  rmSync(STATE, { force: true });
  say('stopped');
}

main().catch((e) => {
  console.error(`\nvmem: ${e.message}\n`);
  process.exit(1);
});
