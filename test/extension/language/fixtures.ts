// Shared test helpers: an in-memory workspace for the language model, and TextMate
// tokenization with the engines VS Code itself uses (vscode-textmate + vscode-oniguruma).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as oniguruma from 'vscode-oniguruma';
import * as vsctm from 'vscode-textmate';
import { memoryFiles } from '../../../src/engine/isa/assembler';
import { LanguageIndex, SourceReader } from '../../../src/extension/language/languageIndex';

export const REPO = join(__dirname, '../../../..');

/** A mutable in-memory workspace (POSIX paths relative to '/'). */
export class MemoryWorkspace implements SourceReader {
  constructor(public files: Record<string, string>) {}
  read(path: string): string | undefined {
    return Object.prototype.hasOwnProperty.call(this.files, path) ? this.files[path] : undefined;
  }
  resolve(from: string, include: string): string {
    return memoryFiles({}).resolve(from, include);
  }
}

export function indexOf(files: Record<string, string>): { ws: MemoryWorkspace; index: LanguageIndex } {
  const ws = new MemoryWorkspace(files);
  const index = new LanguageIndex(ws);
  for (const f of Object.keys(files)) index.update(f);
  return { ws, index };
}

/** Line and column of the `occurrence`-th `needle` on the line that contains it (0-based). */
export function positionOf(text: string, needle: string, occurrence = 0): { line: number; col: number } {
  let from = 0;
  let at = -1;
  for (let i = 0; i <= occurrence; i++) {
    at = text.indexOf(needle, from);
    if (at < 0) throw new Error(`'${needle}' (#${occurrence}) not in text`);
    from = at + 1;
  }
  const before = text.slice(0, at);
  const line = before.split('\n').length - 1;
  return { line, col: at - (before.lastIndexOf('\n') + 1) };
}

let grammarPromise: Promise<vsctm.IGrammar> | undefined;

export function loadGrammar(): Promise<vsctm.IGrammar> {
  grammarPromise ??= (async () => {
    const wasm = readFileSync(join(REPO, 'node_modules/vscode-oniguruma/release/onig.wasm'));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer);
    const registry = new vsctm.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (sources: string[]) => new oniguruma.OnigScanner(sources),
        createOnigString: (s: string) => new oniguruma.OnigString(s),
      }),
      loadGrammar: async (scopeName: string) => {
        if (scopeName !== 'source.vmasm') return null;
        const path = join(REPO, 'syntaxes/vmasm.tmLanguage.json');
        return vsctm.parseRawGrammar(readFileSync(path, 'utf8'), path);
      },
    });
    const g = await registry.loadGrammar('source.vmasm');
    if (!g) throw new Error('grammar did not load');
    return g;
  })();
  return grammarPromise;
}

export interface ScopedToken {
  text: string;
  scopes: string[];
}

export async function tokenizeLine(line: string): Promise<ScopedToken[]> {
  const g = await loadGrammar();
  const r = g.tokenizeLine(line, vsctm.INITIAL);
  return r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
}
