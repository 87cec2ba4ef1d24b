// Bundles the shipped entry points with esbuild. Type checking is `tsc` (npm run typecheck / pretest).
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const entries = [
  { in: 'src/cli/main.ts', out: 'cli', banner: '#!/usr/bin/env node' },
  { in: 'bench/main.ts', out: 'bench' },
  { in: 'src/extension/extension.ts', out: 'extension', external: ['vscode'] },
  { in: 'src/debugAdapter/main.ts', out: 'debugAdapter' },
].filter((e) => existsSync(e.in));

// The webviews' browser bundles (src/webview/<name>/main.ts → dist/webview/<name>.js).
const webviews = ['translation', 'memory', 'timeline', 'overcommit']
  .map((name) => ({ in: `src/webview/${name}/main.ts`, out: name }))
  .filter((e) => existsSync(e.in));

// The codicon font the webviews load (their CSP allows only the extension's own files).
if (webviews.length) {
  mkdirSync('dist/webview', { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf']) copyFileSync(`node_modules/@vscode/codicons/dist/${f}`, `dist/webview/${f}`);
}

const webviewContexts = webviews.map((e) =>
  esbuild.context({
    entryPoints: { [e.out]: e.in },
    outdir: 'dist/webview',
    bundle: true,
    platform: 'browser',
    target: 'chrome120',
    format: 'iife',
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
  }),
);

const contexts = await Promise.all([
  ...webviewContexts,
  ...entries.map((e) =>
    esbuild.context({
      entryPoints: { [e.out]: e.in },
      outdir: 'dist',
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      sourcemap: !production,
      minify: production,
      external: e.external ?? [],
      banner: e.banner ? { js: e.banner } : undefined,
      logLevel: 'warning',
    }),
  ),
]);

if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('watching…');
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
}
