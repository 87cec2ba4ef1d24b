// The packaged .vsix (`npm run package`) holds bundled code and assets only, everything the
// manifest points at, and stays small. Plain node mocha, run by `npm test` after packaging:
//   npx mocha --no-config --timeout 60000 out/test/package/vsix.test.js
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { listZip, readEntry } from './zip';
import type { ZipEntry } from './zip';

const ROOT = resolve(__dirname, '../../..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; main: string; contributes: unknown };
const VSIX = join(ROOT, `${manifest.name}-${manifest.version}.vsix`);

/**
 * Size bounds. Today: ~0.35 MiB compressed, ~1 MiB unpacked (three bundles ~0.7 MiB, docs,
 * examples); the bounds leave room for the webview bundles and the README's screenshots, and
 * catch a node_modules or source-map leak (either adds megabytes).
 */
const MAX_VSIX_BYTES = 3 * 1024 * 1024;
const MAX_UNPACKED_BYTES = 8 * 1024 * 1024;

/** What may ship, as paths inside the archive. */
const ALLOWED: RegExp[] = [
  /^extension\.vsixmanifest$/,
  /^\[Content_Types\]\.xml$/,
  /^extension\/package\.json$/,
  /^extension\/readme\.md$/,
  /^extension\/LICENSE\.txt$/,
  /^extension\/changelog\.md$/,
  /^extension\/dist\/(extension|debugAdapter|cli)\.js$/,
  /^extension\/dist\/webview\/[\w./-]+\.(js|css|ttf|woff2?|svg)$/,
  /^extension\/media\/[\w./-]+$/,
  /^extension\/syntaxes\/[\w./-]+\.json$/,
  /^extension\/schemas\/[\w./-]+\.json$/,
  /^extension\/snippets\/[\w./-]+\.json$/,
  /^extension\/language-configuration\.json$/,
  /^extension\/examples\/[\w./-]+\.(s|json|md)$/,
  /^extension\/docs\/[\w./-]+\.(md|png|svg|gif)$/,
];

/** What must never ship, each for a reason a reviewer would give. */
const FORBIDDEN: [RegExp, string][] = [
  [/^extension\/src\//, 'TypeScript sources (the bundles hold the code)'],
  [/^extension\/test\//, 'tests'],
  [/^extension\/out\//, 'tsc output'],
  [/node_modules\//, 'dependencies (the bundles include what runs)'],
  [/^extension\/tools\//, 'code-server and Playwright'],
  [/\.map$/, 'source maps'],
  [/(?<!\.d)\.ts$/, 'TypeScript sources'],
  [/^extension\/(bench|scripts|\.ci|\.vscode|test-results)\//, 'development folders'],
  [/\.vsix$/, 'an older package'],
];

/**
 * The manifest's own relative file paths (main, debugger programs, grammars, icons, walkthrough
 * media, …): strings like `./x/y.json` or `media/x.svg` — no spaces, no scheme, no variables.
 */
function referencedPaths(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (/^(\.\/)?[\w-]+(\/[\w.-]+)*\/?[\w-]+\.[a-z]+$/i.test(value) && (value.startsWith('./') || value.includes('/'))) out.push(posix.normalize(value));
  } else if (Array.isArray(value)) {
    for (const v of value) referencedPaths(v, out);
  } else if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) referencedPaths(v, out);
  }
  return out;
}

describe('the packaged .vsix', () => {
  let zip: Buffer;
  let entries: ZipEntry[];
  let names: string[];

  before(function () {
    if (!existsSync(VSIX)) throw new Error(`${VSIX} is missing: run \`npm run package\` first`);
    zip = readFileSync(VSIX);
    entries = listZip(zip);
    names = entries.map((e) => e.name);
  });

  it(`is smaller than ${MAX_VSIX_BYTES / 1024 / 1024} MiB packed and ${MAX_UNPACKED_BYTES / 1024 / 1024} MiB unpacked`, () => {
    const packed = statSync(VSIX).size;
    const unpacked = entries.reduce((n, e) => n + e.size, 0);
    assert.ok(packed < MAX_VSIX_BYTES, `${packed} bytes`);
    assert.ok(unpacked < MAX_UNPACKED_BYTES, `${unpacked} bytes unpacked`);
  });

  it('holds only bundled code and assets', () => {
    const unexpected = names.filter((n) => !n.endsWith('/') && !ALLOWED.some((re) => re.test(n)));
    assert.deepEqual(unexpected, []);
  });

  for (const [pattern, why] of FORBIDDEN) {
    it(`ships no ${why} (${pattern.source})`, () => {
      assert.deepEqual(names.filter((n) => pattern.test(n)), []);
    });
  }

  for (const required of [
    'extension/package.json',
    'extension/readme.md',
    'extension/LICENSE.txt',
    'extension/dist/extension.js',
    'extension/dist/debugAdapter.js',
    'extension/dist/cli.js',
    'extension/schemas/scenario.schema.json',
    'extension/examples/two-processes.s',
    'extension/examples/kernel/kernel.s',
  ]) {
    it(`contains ${required}`, () => assert.ok(names.includes(required), `missing ${required}`));
  }

  it('contains every file the manifest refers to', () => {
    const refs = [manifest.main, ...referencedPaths(manifest.contributes)].map((p) => `extension/${posix.normalize(p).replace(/^\.\//, '')}`);
    assert.ok(refs.length >= 3, `too few references found: ${refs.join(', ')}`);
    assert.deepEqual(refs.filter((r) => !names.includes(r)), []);
  });

  it('carries this package.json (name, version, main)', () => {
    const entry = entries.find((e) => e.name === 'extension/package.json');
    assert.ok(entry);
    const shipped = JSON.parse(readEntry(zip, entry).toString('utf8')) as typeof manifest;
    assert.deepEqual([shipped.name, shipped.version, shipped.main], [manifest.name, manifest.version, manifest.main]);
  });

  it('ships minified bundles without inline source maps', () => {
    for (const name of ['extension/dist/extension.js', 'extension/dist/debugAdapter.js']) {
      const entry = entries.find((e) => e.name === name);
      assert.ok(entry, name);
      const text = readEntry(zip, entry).toString('utf8');
      assert.doesNotMatch(text, /sourceMappingURL=data:/, `${name} embeds a source map`);
      const lines = text.split('\n').length;
      assert.ok(lines < 200, `${name} has ${lines} lines: not minified (npm run package builds with --production)`);
    }
  });
});
