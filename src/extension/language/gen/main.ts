// Entry point of scripts/genGrammar.mjs: writes the generated grammar and instruction docs.
// `--check` writes nothing and fails when a file is out of date (for CI).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { grammarFileText } from './grammar';
import { parseDirectives, parseSemantics, renderInstructionDocsModule } from './isaDoc';

export const GENERATED_FILES = {
  grammar: 'syntaxes/vmasm.tmLanguage.json',
  instructionDocs: 'src/extension/language/generated/instructionDocs.ts',
} as const;

/** Path (relative to the repository root) → expected content. */
export function generatedContents(root: string): Record<string, string> {
  const isa = readFileSync(join(root, 'docs/isa.md'), 'utf8');
  return {
    [GENERATED_FILES.grammar]: grammarFileText(),
    [GENERATED_FILES.instructionDocs]: renderInstructionDocsModule(parseSemantics(isa), parseDirectives(isa)),
  };
}

export function main(root: string, check: boolean): number {
  let stale = 0;
  for (const [path, text] of Object.entries(generatedContents(root))) {
    const file = join(root, path);
    let old: string | undefined;
    try {
      old = readFileSync(file, 'utf8');
    } catch {
      old = undefined;
    }
    if (old === text) continue;
    if (check) {
      console.error(`${path} is out of date: run node scripts/genGrammar.mjs`);
      stale++;
    } else {
      writeFileSync(file, text);
      console.log(`wrote ${path}`);
    }
  }
  return stale === 0 ? 0 : 1;
}
