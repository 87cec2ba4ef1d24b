// `npm test` (after `pretest`: tsc and the esbuild bundles): every layer of the pyramid in turn,
// each stage's own report streamed through, then the stages' timings and one combined line
// `N passed, N failed, N skipped` — the line CI reads. Exit code 0 only if every stage ran and
// nothing failed. Chromium missing is a failure with the command that installs it, never a skip.
//   node scripts/ui/testAll.mjs [--only unit,package,exthost,ui]
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, chromiumProblem } from './codeServer.mjs';
import { setup } from './setup.mjs';
import { runMain } from './runMain.mjs';

const SUMMARY = /^(\d+) passed, (\d+) failed, (\d+) skipped\s*$/gm;
const node = process.execPath;
const mochaBin = join(ROOT, 'node_modules/mocha/bin/mocha.js');

const STAGES = [
  { id: 'unit', title: 'engine, CLI, debug adapter, webview units (node mocha)', cmd: [node, mochaBin] },
  { id: 'package', title: 'npm run package', cmd: ['npm', 'run', '--silent', 'package'], noSummary: true },
  {
    id: 'package',
    title: 'the .vsix contents (node mocha)',
    cmd: [node, mochaBin, '--no-config', '--timeout', '60000', '--reporter', './scripts/mocha-reporter.js', 'out/test/package/**/*.test.js'],
  },
  { id: 'exthost', title: 'extension-host suites in code-server', cmd: [node, 'scripts/ui/runExtensionHostTests.mjs'] },
  { id: 'ui', title: 'UI tests: the packaged .vsix in code-server, driven by Playwright', cmd: [node, 'scripts/ui/runUiTests.mjs', '--no-package'] },
];

function run(cmd) {
  return new Promise((ok) => {
    const child = spawn(cmd[0], cmd.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => process.stderr.write(d));
    child.on('exit', (code) => ok({ code: code ?? 1, out }));
  });
}

async function main() {
  const { values } = parseArgs({ options: { only: { type: 'string' } } });
  const only = values.only ? values.only.split(',') : undefined;
  const stages = STAGES.filter((s) => !only || only.includes(s.id));
  const needsBrowser = stages.some((s) => s.id === 'exthost' || s.id === 'ui');
  if (needsBrowser) {
    const problem = chromiumProblem();
    if (problem) {
      console.error(`\nnpm test: ${problem}\n`);
      console.log('0 passed, 1 failed, 0 skipped');
      return 1;
    }
    setup(); // installs tools/ui on first use
  }
  const total = { passed: 0, failed: 0, skipped: 0 };
  const timings = [];
  let broken = false;
  for (const stage of stages) {
    console.log(`\n=== ${stage.title} ===\n`);
    const t0 = Date.now();
    const { code, out } = await run(stage.cmd);
    const seconds = (Date.now() - t0) / 1000;
    const last = [...out.matchAll(SUMMARY)].pop();
    if (last) {
      total.passed += Number(last[1]);
      total.failed += Number(last[2]);
      total.skipped += Number(last[3]);
    }
    const ok = code === 0 && (stage.noSummary || last !== undefined);
    timings.push(`  ${stage.title.padEnd(68)} ${seconds.toFixed(1).padStart(6)} s  ${ok ? 'ok' : `FAILED (exit ${code})`}`);
    if (!ok) {
      broken = true;
      if (!last) total.failed += 1; // a stage that died before reporting counts as a failure
      if (stage.noSummary) break; // no .vsix: the later stages would test nothing
    }
  }
  console.log(`\n=== stages ===\n${timings.join('\n')}`);
  console.log(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  return broken || total.failed > 0 ? 1 : 0;
}

runMain(main);
