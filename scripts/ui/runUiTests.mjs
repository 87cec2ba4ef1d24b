// Runs the UI suites (out/test/ui/**/*.test.js) with Playwright against code-server with the
// PACKAGED extension installed — the .vsix a user installs, not the development folder:
// packages it first when it is missing or older than the sources' build, starts a fresh
// server with it installed and a copy of examples/ as the workspace, launches headless
// Chromium, hands both to the suites (test/ui/context.ts), prints mocha's report and
// `N passed, N failed, N skipped`. Screenshots: test-results/ui/.
//
//   node scripts/ui/runUiTests.mjs [--grep REGEX] [--headed] [--no-package] [--trace] [--keep]
//
// --trace records a Playwright trace to test-results/ui/trace.zip
// (open it with: tools/ui/node_modules/.bin/playwright-core show-trace test-results/ui/trace.zip).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ROOT, installVsix, launchBrowser, removeDir, serverDirs, stamp, startCodeServer, tempDir, writeUserSettings,
} from './codeServer.mjs';
import { setup } from './setup.mjs';
import { runMain } from './runMain.mjs';

const require = createRequire(import.meta.url);
const { values: opts } = parseArgs({
  options: {
    grep: { type: 'string' },
    headed: { type: 'boolean', default: false },
    'no-package': { type: 'boolean', default: false },
    trace: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

const log = stamp(Date.now());
const results = join(ROOT, 'test-results/ui');

export function vsixPath() {
  const { name, version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  return join(ROOT, `${name}-${version}.vsix`);
}

function newestMtime(dir) {
  let newest = 0;
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) newest = Math.max(newest, statSync(join(dir, f)).mtimeMs);
  return newest;
}

/** The .vsix, packaged now unless one newer than src/, media/ and package.json exists. */
export function ensureVsix(repackage) {
  const vsix = vsixPath();
  const inputs = Math.max(newestMtime(join(ROOT, 'src')), newestMtime(join(ROOT, 'media')), statSync(join(ROOT, 'package.json')).mtimeMs);
  if (repackage && (!existsSync(vsix) || statSync(vsix).mtimeMs < inputs)) {
    log('packaging the extension (npm run package)');
    const r = spawnSync('npm', ['run', '--silent', 'package'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm run package failed');
  }
  if (!existsSync(vsix)) throw new Error(`${vsix} is missing: run \`npm run package\``);
  return vsix;
}

async function main() {
  const files = existsSync(join(ROOT, 'out/test/ui'))
    ? readdirSync(join(ROOT, 'out/test/ui'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.test.js')).sort()
    : [];
  if (files.length === 0) throw new Error('no compiled UI suites in out/test/ui: run `npx tsc -p tsconfig.test.json` first');
  setup({ quiet: true });
  const vsix = ensureVsix(!opts['no-package']);
  rmSync(results, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });

  const base = tempDir('ui');
  const dirs = serverDirs(base);
  const workspace = join(base, 'workspace');
  cpSync(join(ROOT, 'examples'), workspace, { recursive: true });
  writeUserSettings(dirs, {
    // The default dark theme, as most users see VS Code (the README's screenshots come from here).
    'workbench.colorTheme': 'Default Dark Modern',
    'debug.toolBarLocation': 'floating',
    'editor.minimap.enabled': false,
    // For investigating a failure by hand, e.g. VMEM_UI_SETTINGS='{"debug.allowBreakpointsEverywhere":true}'.
    ...JSON.parse(process.env.VMEM_UI_SETTINGS ?? '{}'),
  });
  installVsix(dirs, vsix);
  log(`installed ${vsix.slice(ROOT.length + 1)}`);
  const server = await startCodeServer({ dirs });
  log(`code-server on ${server.url} (log ${server.log})`);
  const browser = await launchBrowser({ headless: !opts.headed });
  if (opts.trace) await browser.context.tracing.start({ screenshots: true, snapshots: true });
  const consoleErrors = [];
  browser.page.on('pageerror', (e) => consoleErrors.push(String(e)));

  let failures = 1;
  try {
    require(join(ROOT, 'out/test/ui/context.js')).setUiContext({ page: browser.page, serverUrl: server.url, workspace, results });
    const Mocha = require('mocha');
    const mocha = new Mocha({
      ui: 'bdd',
      timeout: 120_000,
      reporter: require(join(ROOT, 'scripts/mocha-reporter.js')),
      bail: false,
      ...(opts.grep ? { grep: opts.grep } : {}),
    });
    for (const f of files) mocha.addFile(join(ROOT, 'out/test/ui', f));
    await mocha.loadFilesAsync();
    failures = await new Promise((ok) => mocha.run(ok));
  } finally {
    if (opts.trace) await browser.context.tracing.stop({ path: join(results, 'trace.zip') }).catch(() => undefined);
    await browser.close();
    await server.stop();
    if (failures === 0 && !opts.keep) removeDir(base);
    else console.error(`kept ${base} (server log, workspace, extensions)`);
  }
  log(`done; screenshots in ${results.slice(ROOT.length + 1)}/`);
  return failures === 0 ? 0 : 1;
}

runMain(main, { stack: true });
