// `npm run bench -- exthost [--steps N] [--modes a,b] …`: runs scripts/ui/runExtensionHostBench.mjs
// (code-server, headless Chromium, bench/extensionHost/index.ts inside the extension host) with its
// table on stderr, and returns its JSON for bench/main.ts's output. Options after `exthost` that
// start with `--` go to the runner as they are.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository: dist/ (bundled) and out/bench/extensionHost/ (compiled) sit at different depths. */
const ROOT = [resolve(__dirname, '..'), resolve(__dirname, '../..'), resolve(__dirname, '../../..')].find((d) => existsSync(join(d, 'scripts/ui/runExtensionHostBench.mjs'))) ?? resolve(__dirname, '..');

export function benchExtensionHost(args: string[] = []): unknown {
  if (!existsSync(join(ROOT, 'tools/ui/node_modules/.bin/code-server'))) {
    const why = 'code-server is not installed in tools/ui: run `node scripts/ui/setup.mjs --no-browser` (or `npm run ui:setup`), then `npm run bench -- exthost` again';
    process.stderr.write(`exthost: ${why}\n`);
    return { skipped: why };
  }
  const dir = mkdtempSync(join(tmpdir(), 'vmem-exthost-bench-'));
  const out = join(dir, 'exthost.json');
  try {
    // The runner's progress and table go to stderr, so stdout stays this process's JSON.
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/ui/runExtensionHostBench.mjs'), ...args, '--json-out', out], { cwd: ROOT, stdio: ['ignore', 2, 2] });
    if (r.status !== 0 || !existsSync(out)) return { failed: `scripts/ui/runExtensionHostBench.mjs exited ${r.status ?? r.signal}` };
    return JSON.parse(readFileSync(out, 'utf8')) as unknown;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
