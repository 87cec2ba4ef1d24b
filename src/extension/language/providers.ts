// VS Code providers: thin adapters from the pure language model to the editor's types.
import * as vscode from 'vscode';
import { lookupAddress } from '../../engine/isa/assembler';
import type { Diagnostic } from '../../engine/isa/assembler';
import { DiagnosticsEngine } from './diagnosticsEngine';
import { SymbolValues, hoverAt } from './hover';
import { LanguageIndex } from './languageIndex';
import { FileSpan, OutlineKind, OutlineNode, definitionAt, outline, referencesAt, workspaceSymbols } from './navigation';
import { pathOf, uriOf } from './workspaceReader';

const toRange = (s: { line: number; col: number; end: number }): vscode.Range => new vscode.Range(s.line, s.col, s.line, s.end);
const toLocation = (s: FileSpan): vscode.Location => new vscode.Location(uriOf(s.file), toRange(s));

/** An assembler diagnostic (1-based) as an editor diagnostic, underlining the offending text. */
export function toVscodeDiagnostic(d: Diagnostic, lineText: string | undefined): vscode.Diagnostic {
  const line = Math.max(0, d.line - 1);
  const start = Math.max(0, d.column - 1);
  const text = lineText ?? '';
  // Without an end column, underline the rest of the statement (up to a comment).
  const fallbackEnd = Math.max(start + 1, text.replace(/\s*[;#].*$/, '').trimEnd().length);
  const end = d.endColumn !== undefined ? Math.max(start + 1, d.endColumn - 1) : fallbackEnd;
  const severity = d.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning;
  const diag = new vscode.Diagnostic(new vscode.Range(line, start, line, end), d.message, severity);
  diag.source = 'vmasm';
  return diag;
}

export function symbolValues(index: LanguageIndex, engine: DiagnosticsEngine): SymbolValues {
  return {
    value(file, name) {
      const result = engine.resultNow(file);
      const value = result?.symbols.get(name);
      if (!result || value === undefined) return undefined;
      const address = result.labels.get(name);
      if (address === undefined) return { value };
      const entry = lookupAddress(result, address);
      return { value, loadAddress: entry ? entry.loadAddress + (address - entry.address) : undefined };
    },
    displayPath: (file) => vscode.workspace.asRelativePath(uriOf(file)),
  };
}

const SYMBOL_KINDS: Readonly<Record<OutlineKind, vscode.SymbolKind>> = {
  section: vscode.SymbolKind.Namespace,
  label: vscode.SymbolKind.Function,
  local: vscode.SymbolKind.Function,
  equ: vscode.SymbolKind.Constant,
  macro: vscode.SymbolKind.Method,
};

function toDocumentSymbol(n: OutlineNode, doc: vscode.TextDocument): vscode.DocumentSymbol {
  const endLine = Math.min(n.range.endLine, doc.lineCount - 1);
  const range = new vscode.Range(n.range.startLine, 0, endLine, doc.lineAt(endLine).text.length);
  const selection = toRange(n.selection);
  const s = new vscode.DocumentSymbol(n.name, n.detail, SYMBOL_KINDS[n.kind], range.union(selection), selection);
  s.children = n.children.map((c) => toDocumentSymbol(c, doc));
  return s;
}

export function registerProviders(selector: vscode.DocumentSelector, index: LanguageIndex, engine: DiagnosticsEngine): vscode.Disposable[] {
  const values = symbolValues(index, engine);
  return [
    vscode.languages.registerHoverProvider(selector, {
      provideHover(doc, pos) {
        const h = hoverAt(index, values, pathOf(doc.uri), pos.line, pos.character);
        return h && new vscode.Hover(new vscode.MarkdownString(h.markdown), new vscode.Range(pos.line, h.col, pos.line, h.end));
      },
    }),
    vscode.languages.registerDefinitionProvider(selector, {
      provideDefinition(doc, pos) {
        return definitionAt(index, pathOf(doc.uri), pos.line, pos.character).map(toLocation);
      },
    }),
    vscode.languages.registerReferenceProvider(selector, {
      provideReferences(doc, pos, context) {
        return referencesAt(index, pathOf(doc.uri), pos.line, pos.character, context.includeDeclaration).map(toLocation);
      },
    }),
    vscode.languages.registerDocumentSymbolProvider(selector, {
      provideDocumentSymbols(doc) {
        const scan = index.scan(pathOf(doc.uri));
        return scan ? outline(scan).map((n) => toDocumentSymbol(n, doc)) : [];
      },
    }, { label: 'VMem Assembly' }),
    vscode.languages.registerWorkspaceSymbolProvider({
      provideWorkspaceSymbols(query) {
        return workspaceSymbols(index, query).map((h) => {
          const kind = h.definition.kind === 'equ' ? vscode.SymbolKind.Constant : h.definition.kind === 'macro' ? vscode.SymbolKind.Method : vscode.SymbolKind.Function;
          return new vscode.SymbolInformation(h.definition.name, kind, vscode.workspace.asRelativePath(uriOf(h.file)), toLocation(h));
        });
      },
    }),
  ];
}
