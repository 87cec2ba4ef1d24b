// The views-refresh benchmark inside code-server's real extension host (bench/extensionHost/):
// bundles its entry with esbuild, starts a fresh server with this repository as the development
// extension (dist/ must be built: `npm run build`) and a throw-away copy of examples/ as the
// workspace, opens the workbench in headless Chromium, and prints what the benchmark measured:
// a table, then the JSON. Not a test: it asserts nothing about time and is not part of `npm test`.
//
//   node scripts/ui/runExtensionHostBench.mjs [--modes native,shadow,nested] [--steps 30]
//       [--warmup 3] [--quiet-ms 400] [--json-out FILE] [--trace] [--headed] [--keep]
//   --trace   print, for the warm-up steps, the DAP traffic and the views' answers in time order
//   --no-panels  the tree views alone: no Address Translation / Machine Memory / Event Timeline
//
// Needs code-server in tools/ui (`node scripts/ui/setup.mjs --no-browser`, or `npm run ui:setup`)
// and Chromium (/usr/bin/chromium): the extension host starts only when a workbench connects.
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { format, parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import {
  CODE_SERVER, ROOT, chromiumProblem, launchBrowser, removeDir, serverDirs, stamp, startCodeServer, tempDir, workbenchUrl, writeUserSettings,
} from './codeServer.mjs';

// Printed by bench/extensionHost/index.ts.
const BENCH_MARKER = 'vmem extension-host bench:';
const BENCH_RESULT = 'vmem extension-host bench result: ';

const { values: opts } = parseArgs({
  options: {
    modes: { type: 'string', default: 'native,shadow,nested' },
    steps: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '3' },
    'quiet-ms': { type: 'string', default: '400' },
    'json-out': { type: 'string' },
    trace: { type: 'boolean', default: false },
    'no-panels': { type: 'boolean', default: false },
    headed: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    timeout: { type: 'string', default: '900' },
  },
});

const log = stamp(Date.now());

/** Why the benchmark cannot run here, with what to run; undefined when it can. */
export function missingPrerequisite() {
  if (!existsSync(CODE_SERVER)) return `code-server is not installed in tools/ui: run \`node scripts/ui/setup.mjs --no-browser\` (or \`npm run ui:setup\`) first`;
  const chromium = chromiumProblem();
  if (chromium) return chromium;
  if (!existsSync(join(ROOT, 'dist/extension.js'))) return 'dist/extension.js is missing: run `npm run build` first';
  return undefined;
}

const pad = (s, n) => String(s).padEnd(n);
const ms = (x) => (Number.isFinite(x) ? x.toFixed(1) : '—');

/** The short table: one row per mode, then each view's p95. */
export function table(result) {
  const lines = [
    `views refresh at a step, end to end in code-server's extension host (${result.program}, ${result.pages.toLocaleString('en-US')} pages; adapter ${result.adapter}; ${result.options.steps} steps/mode)`,
    `${pad('mode', 8)}${pad('refresh p50', 13)}${pad('p95', 9)}${pad('max', 9)}${pad('target', 8)}${pad('stop gathered p50', 19)}${pad('lag p95', 9)}${pad('lag max', 9)}${pad('>50ms', 7)}${pad('on-CPU max', 12)}incomplete`,
  ];
  for (const m of result.modes) {
    const l = m.eventLoopLagMs;
    lines.push(`${pad(m.mode, 8)}${pad(ms(m.refreshMs.p50), 13)}${pad(ms(m.refreshMs.p95), 9)}${pad(ms(m.refreshMs.max), 9)}${pad(`≤ ${m.refreshMs.target}`, 8)}${pad(ms(m.sessionStopMs.p50), 19)}${pad(ms(l.p95), 9)}${pad(ms(l.max), 9)}${pad(`${l.over50}`, 7)}${pad(`${ms(l.maxOnCpu)} (${l.over50OnCpu})`, 12)}${m.incomplete.length}`);
  }
  lines.push(`one idle views request, extension host → workbench → adapter → back, p50 ms: ${result.modes.map((m) => `${m.mode} ${ms(m.idleRoundTripMs?.p50)}`).join(', ')}`);
  lines.push(`the workbench's own CALL STACK (stopped → its stackTrace request), p50 / p95 ms, and steps whose views had all refreshed before it: ${result.modes.map((m) => `${m.mode} ${ms(m.workbenchCallStackMs?.p50)} / ${ms(m.workbenchCallStackMs?.p95)}, ${m.workbenchCallStackMs?.viewsFirst ?? '—'} of ${m.steps}`).join('; ')}`);
  lines.push('per view, p95 ms (stopped event → its last answer / update message posted):');
  const views = Object.keys(result.modes[0]?.perView ?? {});
  lines.push(`${pad('mode', 8)}${views.map((v) => pad(v.replace('vmem.', ''), 19)).join('')}panels acked p95`);
  for (const m of result.modes) {
    lines.push(`${pad(m.mode, 8)}${views.map((v) => pad(`${ms(m.perView[v].p95)} (${m.perView[v].refreshed}/${m.steps})`, 19)).join('')}${ms(m.panelsDeliveredMs.p95)}`);
  }
  return lines.join('\n');
}

async function main() {
  const problem = missingPrerequisite();
  if (problem) throw new Error(problem);
  const base = tempDir('ext-bench');
  const entry = join(base, 'bench/index.js');
  await esbuild.build({
    entryPoints: [join(ROOT, 'bench/extensionHost/index.ts')],
    outfile: entry,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
    sourcemap: true,
    logLevel: 'warning',
  });
  const dirs = serverDirs(base);
  const workspace = join(base, 'workspace');
  cpSync(join(ROOT, 'examples'), workspace, { recursive: true });
  // The Run and Debug view would replace the VMem container at the session's start.
  writeUserSettings(dirs, { 'debug.openDebug': 'neverOpen' });
  const env = {
    VMEM_BENCH_MODES: opts.modes,
    VMEM_BENCH_STEPS: opts.steps,
    VMEM_BENCH_WARMUP: opts.warmup,
    VMEM_BENCH_QUIET_MS: opts['quiet-ms'],
    ...(opts.trace ? { VMEM_BENCH_TRACE: '1' } : {}),
    ...(opts['no-panels'] ? { VMEM_BENCH_NO_PANELS: '1' } : {}),
  };
  const server = await startCodeServer({ dirs, env });
  log(`code-server on ${server.url} (log ${server.log})`);
  const browser = await launchBrowser({ headless: !opts.headed });
  let result;
  let code;
  let workbenchLog = '';
  try {
    const { page } = browser;
    const exited = new Promise((ok) => page.exposeFunction('codeAutomationExit', (c) => ok(Number(c))));
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const line = format(...(Array.isArray(args) ? args : [args]));
      if (line.startsWith(BENCH_RESULT)) result = JSON.parse(line.slice(BENCH_RESULT.length));
      else if (line.startsWith(BENCH_MARKER)) log(line.slice(BENCH_MARKER.length).trim());
      else workbenchLog += `[${type}] ${line}\n`;
    });
    await page.goto(workbenchUrl(server, { folder: workspace, extensionDevelopmentPath: ROOT, extensionTestsPath: entry }));
    log('workbench loading; the benchmark runs when the extension host starts');
    const timeoutS = Number(opts.timeout);
    code = await Promise.race([exited, new Promise((ok) => setTimeout(() => ok('timeout'), timeoutS * 1000))]);
    if (code === 'timeout') {
      console.error(`the benchmark did not finish in ${timeoutS} s`);
      code = 124;
    }
    if (code !== 0 || opts.keep) {
      const results = join(ROOT, 'test-results/extensionHost');
      mkdirSync(results, { recursive: true });
      writeFileSync(join(results, 'bench-workbench.log'), workbenchLog);
      const shot = join(results, code !== 0 ? 'bench-failure.png' : 'bench-final.png');
      await page.screenshot({ path: shot }).catch(() => undefined);
      console.error(`screenshot: ${shot}; workbench log: ${join(results, 'bench-workbench.log')}`);
      if (code !== 0) console.error(workbenchLog.split('\n').filter((l) => /error|Error|bench/.test(l)).slice(-30).join('\n'));
    }
  } finally {
    await browser.close();
    await server.stop();
    if (code === 0 && !opts.keep) removeDir(base);
    else console.error(`kept ${base} (server log, workspace, bundled entry)`);
  }
  if (code !== 0 || !result) throw new Error(`the extension-host benchmark failed (exit ${code}${result ? '' : ', no result'})`);
  const json = JSON.stringify(result, null, 2);
  if (opts['json-out']) {
    mkdirSync(dirname(opts['json-out']), { recursive: true });
    writeFileSync(opts['json-out'], json + '\n');
  }
  process.stderr.write(table(result) + '\n');
  if (!opts['json-out']) process.stdout.write(json + '\n');
  return 0;
}

main().then(
  (c) => process.exit(c),
  (e) => {
    console.error(`\n${e.message}\n`);
    process.exit(1);
  },
);
