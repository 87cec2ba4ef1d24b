// The mocha entry inside the real extension host (code-server's, or Electron VS Code's via
// @vscode/test-electron): VS Code loads this module as `extensionTestsPath` and awaits `run()`;
// a rejection makes the host exit non-zero. Every *.test.js beside this file is a suite; they
// import `vscode`, so the plain node mocha run never sees them (.mocharc.json ignores this folder).
//
// The runner (scripts/ui/runExtensionHostTests.mjs) passes options through the environment the
// extension host inherits from code-server:
//   VMEM_EXT_GREP    only the tests whose full title matches this regular expression
//   VMEM_EXT_FILES   only the suite files whose path contains one of these comma-separated names
import Mocha from 'mocha';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export const SUITES_MARKER = 'vmem extension-host suites:';

/** The closing line every runner in this repo prints; CI and `npm test` read it. */
export function summaryLine(stats: { passes: number; failures: number; pending: number }): string {
  return `${stats.passes} passed, ${stats.failures} failed, ${stats.pending} skipped`;
}

export function suiteFiles(dir: string, only: readonly string[]): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.js'))
    .filter((f) => only.length === 0 || only.some((name) => f.includes(name)))
    .sort()
    .map((f) => join(dir, f));
}

export async function run(): Promise<void> {
  const grep = process.env.VMEM_EXT_GREP;
  const only = (process.env.VMEM_EXT_FILES ?? '').split(',').filter((s) => s !== '');
  // The host's console is forwarded to the browser (codeAutomationLog), which shows no colours.
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec', ...(grep ? { grep } : {}) });
  const files = suiteFiles(__dirname, only);
  if (files.length === 0) throw new Error(`no extension-host suites in ${__dirname}${only.length ? ` matching ${only.join(',')}` : ''}`);
  for (const f of files) mocha.addFile(f);
  // The runner prints the host's console from this line on (before it: the workbench's own log).
  console.log(`${SUITES_MARKER} ${files.length} suite file(s)`);
  await mocha.loadFilesAsync();
  const failures = await new Promise<number>((resolve) => {
    const runner = mocha.run((n) => resolve(n));
    runner.once('end', () => console.log(`\n${summaryLine(runner.stats ?? { passes: 0, failures: 0, pending: 0 })}`));
  });
  if (failures > 0) throw new Error(`${failures} extension-host test(s) failed`);
}
