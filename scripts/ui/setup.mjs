// Installs tools/ui (code-server 4.100.3 + playwright-core, pinned by tools/ui/package-lock.json)
// on demand, and checks for Chromium. Idempotent: a no-op (~0.1 s) when already installed.
//   node scripts/ui/setup.mjs            install if needed, check Chromium
//   node scripts/ui/setup.mjs --no-browser   skip the Chromium check (npm start with a local `code`)
// Why each environment variable and the ripgrep cache: docs/testing.md, "Setting up".
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CODE_SERVER, TOOLS, aptCommand, chromiumProblem, tempDir, removeDir } from './codeServer.mjs';

const RIPGREP_CACHE_VERSION = '1.15.11'; // @vscode/ripgrep as pinned by code-server 4.100.3
const RIPGREP_ASSET = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';

function installed() {
  const lock = join(TOOLS, 'package-lock.json');
  const stamp = join(TOOLS, 'node_modules/.package-lock.json');
  if (!existsSync(CODE_SERVER) || !existsSync(join(TOOLS, 'node_modules/playwright-core/package.json'))) return false;
  // npm writes node_modules/.package-lock.json at the end of an install: older than the lock
  // means the pins moved since.
  return existsSync(stamp) && statSync(stamp).mtimeMs >= statSync(lock).mtimeMs;
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** What code-server's native modules need to build (kerberos and argon2 build from source here). */
function buildPrerequisites() {
  const missing = [];
  if (!existsSync('/usr/bin/rg')) missing.push('ripgrep');
  if (!have('make') || !have('g++')) missing.push('build-essential');
  if (!have('python3')) missing.push('python3');
  if (!have('pkg-config')) missing.push('pkg-config');
  if (!existsSync('/usr/include/krb5.h') && !existsSync('/usr/include/krb5/krb5.h')) missing.push('libkrb5-dev');
  return missing;
}

/**
 * @vscode/ripgrep's postinstall downloads rg from GitHub; seeding its cache with Debian's rg
 * (same tarball name it looks for) means nothing is downloaded.
 */
function seedRipgrepCache() {
  const cache = join(process.env.TMPDIR ?? tmpdir(), `vscode-ripgrep-cache-${RIPGREP_CACHE_VERSION}`);
  const tarball = join(cache, RIPGREP_ASSET);
  if (existsSync(tarball)) return;
  mkdirSync(cache, { recursive: true });
  const pack = tempDir('rgpack');
  try {
    copyFileSync('/usr/bin/rg', join(pack, 'rg'));
    execFileSync('tar', ['czf', tarball, '-C', pack, 'rg']);
  } finally {
    removeDir(pack);
  }
}

export function setup({ browser = true, quiet = false } = {}) {
  const log = quiet ? () => undefined : (m) => console.log(`setup: ${m}`);
  if (!installed()) {
    const missing = buildPrerequisites();
    if (missing.length > 0) {
      throw new Error(`installing code-server needs: ${missing.join(', ')}. Install them:\n  ${aptCommand(missing)}`);
    }
    seedRipgrepCache();
    log(`installing code-server and playwright-core into ${TOOLS} (about a minute)…`);
    const t0 = Date.now();
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
      cwd: TOOLS,
      stdio: quiet ? 'ignore' : 'inherit',
      env: {
        ...process.env,
        npm_config_yes: 'true', // node-pty's postinstall runs `npx node-gyp`
        npm_config_unsafe_perm: 'true', // code-server's postinstall refuses root without it
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1', // never a downloaded browser: Debian's Chromium
      },
    });
    if (r.status !== 0) throw new Error(`npm ci in ${TOOLS} failed (exit ${r.status})`);
    log(`installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } else {
    const v = JSON.parse(readFileSync(join(TOOLS, 'node_modules/code-server/package.json'), 'utf8')).version;
    log(`code-server ${v} present in ${TOOLS}`);
  }
  if (browser) {
    const problem = chromiumProblem();
    if (problem) throw new Error(problem);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    setup({ browser: !process.argv.includes('--no-browser') });
  } catch (e) {
    console.error(`\n${e.message}\n`);
    process.exit(1);
  }
}
