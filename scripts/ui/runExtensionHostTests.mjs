// Runs the extension-host suites (out/test/extensionHost/**/*.test.js, compiled by
// `npx tsc -p tsconfig.test.json`) with mocha inside code-server's real Node extension host:
// a fresh server, this repository loaded as the development extension (dist/ must be built),
// a throw-away copy of examples/ as the workspace, the suite's output printed here, then
// `N passed, N failed, N skipped`. Exit code 0 only when every test passed.
//
//   node scripts/ui/runExtensionHostTests.mjs [--grep REGEX] [--files name1,name2] [--headed] [--keep]
//
// On failure (or with --keep) the workbench is screenshotted to test-results/extensionHost/.
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, parseArgs } from 'node:util';
import {
  ROOT, launchBrowser, removeDir, serverDirs, stamp, startCodeServer, tempDir, workbenchUrl, writeUserSettings,
} from './codeServer.mjs';
import { setup } from './setup.mjs';
import { runMain } from './runMain.mjs';

const SUMMARY = /^(\d+) passed, (\d+) failed, (\d+) skipped$/m;
const SUITES_MARKER = 'vmem extension-host suites:'; // printed by test/extensionHost/index.ts

const { values: opts } = parseArgs({
  options: {
    grep: { type: 'string' },
    files: { type: 'string' },
    headed: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    timeout: { type: 'string', default: '600' },
  },
});

const log = stamp(Date.now());
const entry = join(ROOT, 'out/test/extensionHost/index.js');
const results = join(ROOT, 'test-results/extensionHost');

async function main() {
  for (const [file, hint] of [
    [entry, 'npx tsc -p tsconfig.test.json'],
    [join(ROOT, 'dist/extension.js'), 'npm run build'],
  ]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`${hint}\` first`);
  }
  setup({ quiet: true });
  const base = tempDir('ext-host');
  const dirs = serverDirs(base);
  const workspace = join(base, 'workspace');
  cpSync(join(ROOT, 'examples'), workspace, { recursive: true });
  writeUserSettings(dirs, {});
  const env = {};
  if (opts.grep) env.VMEM_EXT_GREP = opts.grep;
  if (opts.files) env.VMEM_EXT_FILES = opts.files;
  const server = await startCodeServer({ dirs, env });
  log(`code-server on ${server.url} (log ${server.log})`);
  const browser = await launchBrowser({ headless: !opts.headed });
  let output = '';
  let workbenchLog = '';
  let code;
  try {
    const { page } = browser;
    const exited = new Promise((ok) => page.exposeFunction('codeAutomationExit', (c) => ok(Number(c))));
    // Everything the workbench logs arrives here; the suites' part starts at the marker that
    // index.ts prints. The rest is kept in workbench.log (printed when something fails).
    let inSuites = false;
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const line = format(...(Array.isArray(args) ? args : [args]));
      if (line.startsWith(SUITES_MARKER)) inSuites = true;
      if (inSuites) {
        output += line + '\n';
        (type === 'error' ? process.stderr : process.stdout).write(line + '\n');
      } else {
        workbenchLog += `[${type}] ${line}\n`;
      }
      if (SUMMARY.test(line)) inSuites = false;
    });
    await page.goto(workbenchUrl(server, { folder: workspace, extensionDevelopmentPath: ROOT, extensionTestsPath: entry }));
    log('workbench loading; the suites run when the extension host starts');
    const timeoutS = Number(opts.timeout);
    code = await Promise.race([
      exited,
      new Promise((ok) => setTimeout(() => ok('timeout'), timeoutS * 1000)),
    ]);
    if (code === 'timeout') {
      console.error(`the extension host did not finish in ${timeoutS} s`);
      code = 124;
    }
    if (code !== 0 || opts.keep) {
      mkdirSync(results, { recursive: true });
      writeFileSync(join(results, 'workbench.log'), workbenchLog);
      if (!inSuites && output === '') console.error(`the suites never started; the workbench said:\n${workbenchLog.split('\n').slice(-30).join('\n')}`);
      const shot = join(results, code !== 0 ? 'failure.png' : 'final.png');
      await page.screenshot({ path: shot }).catch(() => undefined);
      console.error(`screenshot: ${shot}`);
    }
  } finally {
    await browser.close();
    await server.stop();
    if (code === 0 && !opts.keep) removeDir(base);
    else console.error(`kept ${base} (server log, workspace)`);
  }
  const m = SUMMARY.exec(output);
  const summary = m ? m[0] : `0 passed, 1 failed, 0 skipped`; // no summary: the host died before mocha finished
  log('done');
  console.log(`\n${summary}`);
  return code === 0 && m !== null && Number(m[2]) === 0 ? 0 : 1;
}

runMain(main);
