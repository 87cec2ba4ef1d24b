// Generates syntaxes/vmasm.tmLanguage.json and src/extension/language/generated/instructionDocs.ts
// from the engine's ISA tables and docs/isa.md, so the grammar and hovers cannot drift from the
// assembler. Usage: node scripts/genGrammar.mjs [--check]
import * as esbuild from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'vmem-gen-'));
try {
  const out = join(dir, 'gen.js');
  await esbuild.build({
    entryPoints: [join(root, 'src/extension/language/gen/main.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    logLevel: 'warning',
  });
  const { main } = createRequire(import.meta.url)(out);
  process.exitCode = main(root, process.argv.includes('--check'));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
