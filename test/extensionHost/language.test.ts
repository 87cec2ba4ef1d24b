// Language support in the real VS Code: the vmasm language on .s files, and the providers
// answering through VS Code's own commands on the examples (a copy the runner opened).
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { waitFor, workspaceFolder } from './hostHelpers';

const EXTENSION_ID = 'vmem.vmem-debugger';

function uri(rel: string): vscode.Uri {
  return vscode.Uri.file(join(workspaceFolder().uri.fsPath, rel));
}

async function open(rel: string): Promise<vscode.TextDocument> {
  const doc = await vscode.workspace.openTextDocument(uri(rel));
  await vscode.window.showTextDocument(doc, { preview: false });
  return doc;
}

/** Position of the `nth` occurrence of `needle` in the document, `offset` characters in. */
function find(doc: vscode.TextDocument, needle: string, offset = 1, nth = 0): vscode.Position {
  const text = doc.getText();
  let at = -1;
  for (let i = 0; i <= nth; i++) at = text.indexOf(needle, at + 1);
  assert.ok(at >= 0, `'${needle}' not in ${doc.uri.fsPath}`);
  return doc.positionAt(at + offset);
}

async function hoverText(doc: vscode.TextDocument, pos: vscode.Position): Promise<string> {
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, pos);
  return hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
}

const diagnosticsOf = (rel: string): vscode.Diagnostic[] => vscode.languages.getDiagnostics(uri(rel)).filter((d) => d.source === 'vmasm');

async function edit(doc: vscode.TextDocument, line: number, text: string): Promise<void> {
  const e = new vscode.WorkspaceEdit();
  e.insert(doc.uri, new vscode.Position(line, 0), text);
  assert.ok(await vscode.workspace.applyEdit(e));
}

async function revert(doc: vscode.TextDocument, original: string): Promise<void> {
  const e = new vscode.WorkspaceEdit();
  e.replace(doc.uri, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), original);
  assert.ok(await vscode.workspace.applyEdit(e));
}

describe('language support (vmasm)', function () {
  this.timeout(60_000);

  before(async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)?.activate();
  });

  it('gives .s files the vmasm language', async () => {
    const doc = await open('hello.s');
    assert.equal(doc.languageId, 'vmasm');
    assert.ok((await vscode.languages.getLanguages()).includes('vmasm'));
  });

  it('hovers an instruction with its semantics from docs/isa.md', async () => {
    const doc = await open('hello.s');
    const text = await waitFor('a hover', async () => (await hoverText(doc, find(doc, 'lea rdi', 1))) || undefined);
    assert.match(text, /\*\*lea\*\* — opcode `0x13`/);
    assert.match(text, /the effective address/);
  });

  it('hovers a label defined in an included file with its assembled address', async () => {
    const doc = await open('hello.s');
    const text = await hoverText(doc, find(doc, 'call print', 6));
    assert.match(text, /label print/);
    assert.match(text, /kernel\/ulib\.s:\d+/);
    assert.match(text, /Value: `0x41[0-9a-f]{4}`/);
  });

  it('hovers a PTE flag constant with its bit, and a control register with its bits', async () => {
    const layout = await open('kernel/layout.s');
    assert.match(await hoverText(layout, find(layout, 'PTE_RW', 2)), /RW\*\* — paging-structure entry .* bit 1/);
    const paging = await open('kernel/paging64.s');
    assert.match(await hoverText(paging, find(paging, 'cr0, rax', 1)), /\| 16 \| WP \|/);
  });

  it('hovers an address with its page-table indices', async () => {
    const layout = await open('kernel/layout.s');
    assert.match(await hoverText(layout, find(layout, '0x400000', 3)), /PML4 0 · PDPT 0 · PD 2 · PT 0/);
  });

  it('goes to the definition of a label across includes', async () => {
    const doc = await open('hello.s');
    const locs = await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>('vscode.executeDefinitionProvider', doc.uri, find(doc, 'call print', 6));
    assert.equal(locs.length, 1);
    const loc = locs[0] as vscode.Location;
    assert.ok(loc.uri.fsPath.endsWith(join('kernel', 'ulib.s')), loc.uri.fsPath);
    const target = await vscode.workspace.openTextDocument(loc.uri);
    assert.match(target.lineAt(loc.range.start.line).text, /^print:/);
  });

  it('goes to a local label in its own function', async () => {
    const ulib = await open('kernel/ulib.s');
    const use = find(ulib, 'jmp .find_end', 5);
    const locs = await vscode.commands.executeCommand<vscode.Location[]>('vscode.executeDefinitionProvider', ulib.uri, use);
    assert.equal(locs.length, 1);
    assert.match(ulib.lineAt(locs[0].range.start.line).text, /^\.find_end:/);
  });

  it('finds the references of a label in every file of the unit', async () => {
    const ulib = await open('kernel/ulib.s');
    const refs = await vscode.commands.executeCommand<vscode.Location[]>('vscode.executeReferenceProvider', ulib.uri, find(ulib, '\nprint:', 1));
    const files = new Set(refs.map((r) => vscode.workspace.asRelativePath(r.uri)));
    assert.ok(refs.length >= 2, JSON.stringify(refs));
    assert.ok([...files].some((f) => f.endsWith('ulib.s')));
  });

  it('lists document symbols: sections, labels, constants, macros', async () => {
    const hello = await open('hello.s');
    const symbols = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', hello.uri);
    const flat = (s: vscode.DocumentSymbol[]): vscode.DocumentSymbol[] => s.flatMap((x) => [x, ...flat(x.children)]);
    const byName = new Map(flat(symbols).map((s) => [s.name, s]));
    assert.equal(byName.get('NPROC')?.kind, vscode.SymbolKind.Constant);
    assert.equal(byName.get('.org USER_CODE')?.kind, vscode.SymbolKind.Namespace);
    assert.equal(byName.get('proc_a')?.kind, vscode.SymbolKind.Function);
    assert.ok(byName.get('.org USER_CODE')?.children.some((c) => c.name === 'proc_a'));
    const macros = await open('kernel/macros.s');
    const msyms = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', macros.uri);
    assert.ok(msyms.some((s) => s.name === 'SAVE_REGS' && s.kind === vscode.SymbolKind.Method));
  });

  it('assembles an included file through its includer: no errors in a kernel part', async () => {
    await open('kernel/boot.s');
    // Give the debounce and the workspace index time; then boot.s must be clean, not "undefined symbol".
    await new Promise((ok) => setTimeout(ok, 1500));
    assert.deepEqual(diagnosticsOf('kernel/boot.s').map((d) => d.message), []);
  });

  it('reports assembler errors as you type, in the file they are in, and clears them when fixed', async () => {
    const boot = await open('kernel/boot.s');
    const original = boot.getText();
    const line = find(boot, 'jmp start_first_process', 0).line;
    await edit(boot, line, '    mov rax, ebx\n');
    const diags = await waitFor('a diagnostic in boot.s', () => (diagnosticsOf('kernel/boot.s').length > 0 ? diagnosticsOf('kernel/boot.s') : undefined));
    assert.equal(diags.length, 1);
    assert.equal(diags[0].range.start.line, line);
    assert.match(diags[0].message, /size mismatch/);
    assert.equal(diags[0].severity, vscode.DiagnosticSeverity.Error);
    await revert(boot, original);
    await waitFor('the diagnostic to clear', () => (diagnosticsOf('kernel/boot.s').length === 0 ? true : undefined));
  });

  it('reports an undefined label in the program that uses it', async () => {
    const hello = await open('hello.s');
    const original = hello.getText();
    const line = find(hello, 'call print', 0).line;
    await edit(hello, line, '    call no_such_label\n');
    const diags = await waitFor('a diagnostic in hello.s', () => (diagnosticsOf('hello.s').length > 0 ? diagnosticsOf('hello.s') : undefined));
    assert.match(diags[0].message, /no_such_label/);
    assert.equal(diags[0].range.start.line, line);
    assert.equal(hello.getText(diags[0].range), 'no_such_label');
    await revert(hello, original);
    await waitFor('the diagnostic to clear', () => (diagnosticsOf('hello.s').length === 0 ? true : undefined));
  });
});
