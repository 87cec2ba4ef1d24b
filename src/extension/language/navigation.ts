// Go to definition, find references and the document outline, over the files assembled
// together (a file's unit), resolving names as the assembler does: local labels within the
// enclosing global label, `main.loop` from anywhere, macros case-insensitively.
import { LanguageIndex } from './languageIndex';
import { Definition, FileScan, Reference, Span } from './scan';

export interface FileSpan extends Span {
  file: string;
}

export interface DefinitionHit extends FileSpan {
  definition: Definition;
}

/** What the name at a position refers to: the assembler's name for it and whether it is a macro. */
export interface Target {
  kind: 'symbol' | 'macro';
  name: string;
  written: string;
  span: Span;
}

const within = (s: Span, line: number, col: number): boolean => s.line === line && col >= s.col && col <= s.end;

export function targetAt(scan: FileScan, line: number, col: number): Target | undefined {
  const ref = scan.references.find((r) => within(r, line, col));
  if (ref) return { kind: ref.kind, name: ref.name, written: ref.written, span: ref };
  const def = scan.definitions.find((d) => within(d, line, col));
  if (def) return { kind: def.kind === 'macro' ? 'macro' : 'symbol', name: def.name, written: def.written, span: def };
  return undefined;
}

function matches(d: Definition, t: Target): boolean {
  return t.kind === 'macro' ? d.kind === 'macro' && d.name === t.name : d.kind !== 'macro' && d.name === t.name;
}

/**
 * Labels and constants macro invocations define (`TRAP_ERR 14` defines trap_14): the assembler
 * reports an expanded line at its invocation, and so does this.
 */
export function expandedDefinitions(index: LanguageIndex, files: readonly string[]): DefinitionHit[] {
  const macros = new Map<string, { params: string[]; templates: { kind: 'label' | 'equ'; pattern: string }[] }>();
  for (const f of files) {
    const s = index.scan(f);
    if (!s) continue;
    for (const m of s.macros) if (m.name) macros.set(m.name.toLowerCase(), { params: m.params, templates: s.templates.filter((t) => t.macro === m.name.toLowerCase()) });
  }
  const hits: DefinitionHit[] = [];
  for (const f of files) {
    for (const inv of index.scan(f)?.invocations ?? []) {
      const m = macros.get(inv.macro);
      if (!m || m.params.length !== inv.args.length) continue;
      for (const t of m.templates) {
        if (t.pattern.includes('\\@')) continue;
        const name = t.pattern.replace(/\\([A-Za-z_][A-Za-z0-9_]*)/g, (whole: string, p: string) => (m.params.includes(p) ? inv.args[m.params.indexOf(p)] : whole));
        if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) continue;
        const definition: Definition = { kind: t.kind, name, written: name, line: inv.line, col: inv.col, end: inv.end, inMacro: inv.macro, lineText: inv.lineText };
        hits.push({ file: f, line: inv.line, col: inv.col, end: inv.end, definition });
      }
    }
  }
  return hits;
}

function definitionsIn(index: LanguageIndex, files: readonly string[], target: Target): DefinitionHit[] {
  const hits: DefinitionHit[] = [];
  for (const f of files) {
    for (const d of index.scan(f)?.definitions ?? []) if (matches(d, target)) hits.push({ file: f, line: d.line, col: d.col, end: d.end, definition: d });
  }
  if (target.kind === 'symbol') hits.push(...expandedDefinitions(index, files).filter((h) => h.definition.name === target.name));
  return hits;
}

/**
 * Definitions of a target in the unit of `file` (several when a name is defined twice, an error
 * the diagnostics show). A shared file (a kernel part) may name what only some of its includers
 * define (a hook under `.ifdef`): when the unit has no definition, every unit holding the file is searched.
 */
export function findDefinitions(index: LanguageIndex, file: string, target: Target): DefinitionHit[] {
  const unit = index.unitOf(file);
  const hits = definitionsIn(index, unit, target);
  if (hits.length > 0) return hits;
  const others = new Set<string>();
  for (const root of index.graph.roots(file)) for (const f of index.graph.unit(root)) if (!unit.includes(f)) others.add(f);
  return definitionsIn(index, [...others], target);
}

export function definitionAt(index: LanguageIndex, file: string, line: number, col: number): DefinitionHit[] {
  const scan = index.scan(file);
  const target = scan && targetAt(scan, line, col);
  return target ? findDefinitions(index, file, target) : [];
}

export function referencesAt(index: LanguageIndex, file: string, line: number, col: number, includeDeclaration: boolean): FileSpan[] {
  const scan = index.scan(file);
  const target = scan && targetAt(scan, line, col);
  if (!target) return [];
  const out: FileSpan[] = [];
  const unit = index.unitOf(file);
  if (includeDeclaration && target.kind === 'symbol') {
    for (const h of expandedDefinitions(index, unit)) if (h.definition.name === target.name) out.push({ file: h.file, line: h.line, col: h.col, end: h.end });
  }
  for (const f of unit) {
    const s = index.scan(f);
    if (!s) continue;
    if (includeDeclaration) for (const d of s.definitions) if (matches(d, target)) out.push({ file: f, line: d.line, col: d.col, end: d.end });
    for (const r of s.references) if (r.kind === target.kind && r.name === target.name) out.push(spanOf(f, r));
  }
  return out;
}

function spanOf(file: string, r: Reference): FileSpan {
  return { file, line: r.line, col: r.col, end: r.end };
}

export type OutlineKind = 'section' | 'label' | 'local' | 'equ' | 'macro';

export interface OutlineNode {
  kind: OutlineKind;
  name: string;
  detail: string;
  /** The whole extent: a label runs to the line before the next label, section or macro. */
  range: { startLine: number; endLine: number };
  selection: Span;
  children: OutlineNode[];
}

/**
 * The document outline: `.org` sections, holding the labels (with their local labels) and
 * constants that follow them; macros at the top level. Definitions inside macro bodies are
 * not listed on their own: they exist once per expansion.
 */
export function outline(scan: FileScan): OutlineNode[] {
  const top: OutlineNode[] = [];
  let section: OutlineNode | undefined;
  let label: OutlineNode | undefined;
  const last = Math.max(0, scan.lineCount - 1);
  type Item = { line: number; node: OutlineNode };
  const items: Item[] = [];
  for (const s of scan.sections) {
    items.push({ line: s.line, node: { kind: 'section', name: `.org ${s.origin}`, detail: 'section', range: { startLine: s.line, endLine: last }, selection: s, children: [] } });
  }
  for (const m of scan.macros) {
    if (!m.name) continue;
    const d = scan.definitions.find((x) => x.kind === 'macro' && x.line === m.startLine);
    if (!d) continue;
    items.push({ line: m.startLine, node: { kind: 'macro', name: d.written, detail: d.lineText.replace(/^\.macro\s+\S+\s*/i, '') || 'macro', range: { startLine: m.startLine, endLine: m.endLine }, selection: d, children: [] } });
  }
  for (const d of scan.definitions) {
    if (d.inMacro || d.kind === 'macro') continue;
    const detail = d.kind === 'equ' ? `= ${d.valueText ?? ''}` : d.kind === 'local' ? 'local label' : 'label';
    items.push({ line: d.line, node: { kind: d.kind, name: d.kind === 'local' ? d.written : d.name, detail, range: { startLine: d.line, endLine: d.line }, selection: d, children: [] } });
  }
  // Stable by line; on one line a section comes before the labels written after `.org`.
  const order: Record<OutlineKind, number> = { section: 0, macro: 1, label: 2, local: 3, equ: 4 };
  items.sort((a, b) => a.line - b.line || order[a.node.kind] - order[b.node.kind] || a.node.selection.col - b.node.selection.col);
  const close = (n: OutlineNode | undefined, endLine: number): void => {
    if (n) n.range.endLine = Math.max(n.range.startLine, endLine);
  };
  for (const { line, node } of items) {
    switch (node.kind) {
      case 'section':
        close(label, line - 1);
        close(section, line - 1);
        label = undefined;
        section = node;
        top.push(node);
        break;
      case 'macro':
        close(label, line - 1);
        label = undefined;
        top.push(node);
        break;
      case 'label':
        close(label, line - 1);
        label = node;
        (section ? section.children : top).push(node);
        break;
      case 'local':
        if (label) {
          label.children.push(node);
          label.range.endLine = Math.max(label.range.endLine, line);
        } else (section ? section.children : top).push(node);
        break;
      case 'equ':
        (section ? section.children : top).push(node);
        break;
    }
  }
  close(label, last);
  close(section, last);
  // A label's extent covers its local labels.
  const fixLocals = (n: OutlineNode): void => {
    for (const c of n.children) {
      c.range.endLine = Math.max(c.range.endLine, c.range.startLine);
      if (c.kind === 'local') c.range.endLine = Math.min(c.range.endLine, n.range.endLine);
      fixLocals(c);
    }
  };
  top.forEach(fixLocals);
  return top;
}

/** Definitions in every indexed file whose name contains the query's characters in order (case-insensitive). */
export function workspaceSymbols(index: LanguageIndex, query: string, limit = 500): DefinitionHit[] {
  const q = query.toLowerCase();
  const fits = (name: string): boolean => {
    let i = 0;
    for (const c of name.toLowerCase()) if (c === q[i]) i++;
    return i === q.length;
  };
  const out: DefinitionHit[] = [];
  for (const f of index.files()) {
    for (const d of index.scan(f)?.definitions ?? []) {
      if (d.inMacro || !fits(d.name)) continue;
      out.push({ file: f, line: d.line, col: d.col, end: d.end, definition: d });
      if (out.length >= limit) return out;
    }
  }
  return out;
}
