// The assembler driver: preprocess, parse once, run layout passes until every label has a
// fixed address, then a final pass that stores bytes. Never throws.
import { Pass } from './pass';
import { preprocess } from './preprocessor';
import { parseStatement } from './statement';
import { AssembleOptions, AssembleResult, Diagnostic, FileProvider } from './types';

/** Forward references settle in two passes; chains of .equ / .if on later labels take more. */
export const MAX_PASSES = 16;

function sameSymbols(a: ReadonlyMap<string, bigint>, b: ReadonlyMap<string, bigint>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function failed(mainFile: string, message: string): AssembleResult {
  const d: Diagnostic = { file: mainFile, line: 1, column: 1, severity: 'error', message };
  return { ok: false, diagnostics: [d], segments: [], symbols: new Map(), labels: new Map(), labelLoads: new Map(), entry: undefined, sourceMap: [] };
}

function run(mainFile: string, files: FileProvider, options: AssembleOptions): AssembleResult {
  const defines = new Map<string, bigint>();
  const bad: Diagnostic[] = [];
  for (const [name, v] of Object.entries(options.defines ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) bad.push({ file: mainFile, line: 1, column: 1, severity: 'error', message: `bad define name '${name}'` });
    else defines.set(name, BigInt.asIntN(64, v));
  }
  const statements = preprocess(mainFile, files).map(parseStatement);
  const wide = new Set<number>();
  let previous = new Map<string, bigint>();
  let converged = false;
  for (let i = 0; i < MAX_PASSES && !converged; i++) {
    const wideBefore = wide.size;
    const p = new Pass({ statements, previous, wide, defines, store: false }).run();
    converged = sameSymbols(p.symbols, previous) && wide.size === wideBefore;
    previous = p.symbols;
  }
  const final = new Pass({ statements, previous, wide, defines, store: true }).run();
  const diagnostics = [...bad, ...final.diagnostics];
  if (!converged) {
    diagnostics.push({ file: mainFile, line: 1, column: 1, severity: 'error', message: `label addresses did not settle after ${MAX_PASSES} passes (a .org, .space, .align or .if depends on a later label?)` });
  }
  const { segments, errors } = final.output.segments();
  for (const e of errors) diagnostics.push({ ...e.loc, severity: 'error', message: e.message });
  const sourceMap = final.sourceMap.slice().sort((a, b) => a.address - b.address);
  const entry = final.entry ?? final.labels.get('_start') ?? final.firstInsn;
  return {
    ok: !diagnostics.some((d) => d.severity === 'error'),
    diagnostics,
    segments,
    symbols: final.symbols,
    labels: final.labels,
    labelLoads: final.labelLoads,
    entry,
    sourceMap,
  };
}

/** Assembles `mainFile` (and what it includes) read through `files`. */
export function assemble(mainFile: string, files: FileProvider, options: AssembleOptions = {}): AssembleResult {
  try {
    return run(mainFile, files, options);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return failed(mainFile, `internal assembler error: ${why}`);
  }
}

/** A FileProvider over an in-memory map of path → text; include paths resolve relative to the includer. */
export function memoryFiles(files: Readonly<Record<string, string>>): FileProvider {
  return {
    read: (path) => (Object.prototype.hasOwnProperty.call(files, path) ? files[path] : undefined),
    resolve: (from, include) => {
      if (include.startsWith('/')) return normalizePath(include);
      const dir = from.includes('/') ? from.slice(0, from.lastIndexOf('/') + 1) : '';
      return normalizePath(dir + include);
    },
  };
}

/** Collapses `.` and `..` segments (POSIX-style paths; no file-system access). */
export function normalizePath(path: string): string {
  const abs = path.startsWith('/');
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (part !== '..' || !abs) out.push(part);
  }
  return (abs ? '/' : '') + out.join('/');
}

/** Assembles one in-memory source (no includes). */
export function assembleText(text: string, fileName = 'main.s', options: AssembleOptions = {}): AssembleResult {
  return assemble(fileName, memoryFiles({ [fileName]: text }), options);
}
