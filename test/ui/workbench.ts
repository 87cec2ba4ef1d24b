// What a user does in the VS Code workbench, as Playwright steps against code-server 4.100.3
// (VS Code 1.100). Every selector lives here, so a workbench change breaks one file. Each
// action waits for its visible effect instead of sleeping.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator, Locator, Page } from '../../tools/ui/node_modules/playwright-core';
import { uiContext } from './context';

export interface TreeRow {
  label: string;
  description: string;
  /** 1 for top-level rows (aria-level). */
  level: number;
  expanded: boolean | undefined;
  /** The row's accessible label (label, description and tooltip-ish detail as VS Code reads it). */
  aria: string;
}

export interface VariableRow {
  name: string;
  value: string;
  level: number;
}

export interface LaunchConfig {
  type: string;
  request: 'launch';
  name: string;
  [key: string]: unknown;
}

const DEFAULT_TIMEOUT = 20_000;

/** Polls `probe` until it returns something other than undefined (or throws the last reason). */
export async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = DEFAULT_TIMEOUT): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`);
    }
    await new Promise((ok) => setTimeout(ok, 150));
  }
}

function exactly(text: string, flags = ''): RegExp {
  return new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, flags);
}

export class Workbench {
  private shots = 0;

  constructor(
    readonly page: Page,
    readonly workspace: string,
    private readonly serverUrl: string,
    private readonly results: string,
    /** Prefix of this suite's screenshot files. */
    private readonly suite: string,
  ) {}

  static fromContext(suite: string): Workbench {
    const c = uiContext();
    return new Workbench(c.page, c.workspace, c.serverUrl, c.results, suite);
  }

  /** Opens the workspace folder in a fresh workbench and waits until it is interactive. */
  async open(): Promise<void> {
    const url = `${this.serverUrl}/?folder=${encodeURIComponent(this.workspace)}`;
    await this.page.goto(url);
    await this.page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 60_000 });
    await this.page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });
  }

  /** A screenshot into test-results/ui/<suite>-NN-<name>.png; returns its path. */
  async shot(name: string): Promise<string> {
    mkdirSync(this.results, { recursive: true });
    this.shots += 1;
    const file = join(this.results, `${this.suite}-${String(this.shots).padStart(2, '0')}-${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  // --- quick input -------------------------------------------------------------------------

  private get quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  private async openQuickInput(text: string): Promise<void> {
    if (!(await this.quickInput.isVisible())) await this.page.keyboard.press('F1');
    const box = this.quickInput.locator('.quick-input-box input');
    await box.waitFor();
    await box.fill(text);
  }

  private async closeQuickInput(): Promise<void> {
    if (await this.quickInput.isVisible()) await this.page.keyboard.press('Escape');
  }

  /**
   * Types `text` in the quick input and clicks the row whose label is exactly `label`; true if it
   * did, undefined (picker closed, for poll to try again) if no such row showed within `waitMs`.
   */
  private async pickExactRow(text: string, label: string, waitMs: number): Promise<true | undefined> {
    await this.openQuickInput(text);
    const row = this.quickInput.locator('.monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: exactly(label) }) }).first();
    try {
      await row.waitFor({ timeout: waitMs });
    } catch {
      await this.closeQuickInput();
      return undefined;
    }
    await row.click();
    return true;
  }

  /**
   * Runs a command from the palette by its exact label ("Debug: Start Debugging"). Enter would
   * take the top fuzzy match; clicking the exact row cannot run a neighbour. Retries until the
   * command is registered (the palette says "No matching commands" before activation).
   */
  async runCommand(label: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await poll(`command "${label}" in the palette`, () => this.pickExactRow(`>${label}`, label, 1500), timeoutMs);
  }

  /** Opens a workspace file by quick open (its path relative to the workspace). */
  async openFile(relativePath: string): Promise<void> {
    const base = relativePath.split('/').pop() ?? relativePath;
    await poll(`"${relativePath}" in quick open`, () => this.pickExactRow(relativePath, base, 2000));
    await this.page.locator('.tabs-container .tab.active .label-name', { hasText: exactly(base) }).waitFor();
    await this.page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor();
  }

  /** Moves the cursor of the active editor to line `n` (Go to Line) and checks the status bar. */
  async goToLine(n: number): Promise<void> {
    // Enter before the picker has parsed ":n" does nothing on a loaded machine: wait for its
    // "Go to line n." row, and type again if the picker closed without moving the cursor.
    await poll(`cursor on line ${n}`, async () => {
      const text = await this.page.locator('.statusbar-item[id="status.editor.selection"]').innerText();
      if (new RegExp(`Ln ${n},`).test(text)) return true;
      await this.openQuickInput(`:${n}`);
      try {
        await this.quickInput.locator('.monaco-list-row', { hasText: `line ${n}` }).first().waitFor({ timeout: 1500 });
      } catch {
        return undefined;
      }
      await this.page.keyboard.press('Enter');
      return undefined;
    });
  }

  // --- views ---------------------------------------------------------------------------------

  /** The pane (a view inside a sidebar or panel container) whose header title is `title`. */
  pane(title: string): Locator {
    return this.page.locator('.pane').filter({ has: this.page.locator('.pane-header .title', { hasText: exactly(title, 'i') }) });
  }

  /** Shows a view by its "Focus on … View" command, then makes sure its pane is expanded. */
  async openView(title: string, container?: string): Promise<Locator> {
    const pane = this.pane(title);
    if (!(await pane.first().isVisible())) {
      await this.runCommand(container ? `${container}: Focus on ${title} View` : `View: Focus on ${title} View`);
    }
    await pane.first().waitFor();
    await this.expandPane(title);
    return pane.first();
  }

  async expandPane(title: string): Promise<void> {
    const header = this.pane(title).first().locator('.pane-header');
    if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
    await poll(`pane "${title}" expanded`, async () => ((await header.getAttribute('aria-expanded')) === 'true' ? true : undefined));
  }

  /** The visible rows of a tree view (virtualized: only what is rendered), read in one round trip. */
  async treeRows(title: string): Promise<TreeRow[]> {
    return this.pane(title).first().locator('.pane-body .monaco-list-row').evaluateAll((rows) =>
      rows.map((row) => {
        const expanded = row.getAttribute('aria-expanded');
        return {
          label: (row.querySelector('.label-name')?.textContent ?? '').trim(),
          description: (row.querySelector('.label-description')?.textContent ?? '').trim(),
          level: Number(row.getAttribute('aria-level') ?? '1'),
          expanded: expanded === null ? undefined : expanded === 'true',
          aria: row.getAttribute('aria-label') ?? '',
        };
      }),
    );
  }

  /** Waits until a tree view shows a row whose label matches, and returns the rows then. */
  async waitForTreeRow(title: string, label: RegExp, timeoutMs = DEFAULT_TIMEOUT): Promise<TreeRow[]> {
    return poll(`a row ${label} in ${title}`, async () => {
      const rows = await this.treeRows(title);
      return rows.some((r) => label.test(r.label)) ? rows : undefined;
    }, timeoutMs);
  }

  /** Expands the first row of a tree view whose label matches (a click on a collapsed row). */
  async expandTreeRow(title: string, label: RegExp): Promise<void> {
    const row = this.pane(title).first().locator('.pane-body .monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: label }) }).first();
    await row.waitFor();
    if ((await row.getAttribute('aria-expanded')) === 'false') {
      await row.locator('.monaco-tl-twistie').click();
      await poll(`row ${label} expanded in ${title}`, async () => ((await row.getAttribute('aria-expanded')) === 'true' ? true : undefined));
    }
  }

  // --- debugging -----------------------------------------------------------------------------

  /** Writes .vscode/launch.json into the workspace (the file a user would write). */
  writeLaunchJson(configurations: LaunchConfig[]): void {
    const dir = join(this.workspace, '.vscode');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'launch.json'), JSON.stringify({ version: '0.2.0', configurations }, null, 2));
  }

  async showRunAndDebug(): Promise<void> {
    if (!(await this.pane('Breakpoints').first().isVisible())) await this.runCommand('View: Show Run and Debug');
    await this.pane('Breakpoints').first().waitFor();
  }

  /** Toggles a line breakpoint with the cursor on line `n` ("Debug: Toggle Breakpoint", F9's command). */
  async toggleBreakpoint(n: number): Promise<void> {
    await this.goToLine(n);
    const before = await this.breakpointGlyphs();
    await this.runCommand('Debug: Toggle Breakpoint');
    await poll(`the breakpoint glyph on line ${n} to toggle`, async () => ((await this.breakpointGlyphs()) !== before ? true : undefined));
  }

  private async breakpointGlyphs(): Promise<number> {
    // Breakpoint glyphs in the active editor's margin, verified or not (1.100 draws them as
    // glyph-margin widgets; older builds as margin decorations).
    return this.page.locator('.editor-instance .monaco-editor [class*="codicon-debug-breakpoint"]').count();
  }

  /** The rows of the BREAKPOINTS view: exception filters and line breakpoints. */
  async breakpointRows(): Promise<{ text: string; checked: boolean }[]> {
    await this.showRunAndDebug();
    await this.expandPane('Breakpoints');
    return this.pane('Breakpoints').first().locator('.monaco-list-row').evaluateAll((rows) =>
      rows.map((row) => ({
        text: ((row as unknown as { innerText?: string }).innerText ?? '').replace(/\s+/g, ' ').trim(),
        checked: (row.querySelector('input[type=checkbox]') as unknown as { checked?: boolean } | null)?.checked ?? false,
      })),
    );
  }

  /** Ticks (or unticks) the exception-filter checkbox labelled `label` (case-insensitive) in BREAKPOINTS. */
  async enableExceptionFilter(label: string, on = true): Promise<void> {
    await this.showRunAndDebug();
    await this.expandPane('Breakpoints');
    const row = this.pane('Breakpoints').first().locator('.monaco-list-row').filter({ has: this.page.locator('.name', { hasText: exactly(label, 'i') }) }).first();
    // The list renders only the rows in view: wheel down to a filter further down (the overcommit ones).
    const list = this.pane('Breakpoints').first().locator('.monaco-list').first();
    let wheeled = false;
    for (let i = 0; i < 40 && (await row.count()) === 0; i++) {
      await list.hover();
      await this.page.mouse.wheel(0, 120);
      await this.page.waitForTimeout(50);
      wheeled = true;
    }
    if (wheeled) {
      // Found at the bottom edge, maybe half hidden: one more step brings it wholly into view.
      await this.page.mouse.wheel(0, 120);
      await this.page.waitForTimeout(100);
    }
    await row.scrollIntoViewIfNeeded();
    const box = row.locator('input[type=checkbox]');
    if ((await box.isChecked()) !== on) await box.click();
    await poll(`"${label}" ${on ? 'checked' : 'unchecked'}`, async () => ((await box.isChecked()) === on ? true : undefined));
  }

  /** Starts the launch.json configuration named `name` (select it, then F5's command). */
  async startDebugging(name: string): Promise<void> {
    await this.showRunAndDebug();
    const select = this.page.locator('.debug-configuration-select, select[aria-label="Debug Launch Configurations"]').first();
    if (await select.isVisible()) await select.selectOption({ label: name }).catch(() => undefined);
    await this.runCommand('Debug: Start Debugging');
    await this.page.locator('.debug-toolbar').waitFor({ timeout: 30_000 });
  }

  /** Waits for the CALL STACK's state to read e.g. "Paused on entry" and returns that text. */
  async waitForPaused(state: RegExp, timeoutMs = 30_000): Promise<string> {
    return poll(`the debugger ${state}`, async () => {
      const labels = this.page.locator('.call-stack-state-message, .debug-call-stack .thread .state');
      for (let i = 0; i < (await labels.count()); i++) {
        const t = ((await labels.nth(i).textContent()) ?? '').trim();
        if (state.test(t)) return t;
      }
      return undefined;
    }, timeoutMs);
  }

  /** The CALL STACK's frames of the paused thread, top first: "name file:line". */
  async stackFrames(): Promise<string[]> {
    await this.showRunAndDebug();
    await this.expandPane('Call Stack');
    return this.pane('Call Stack').first().locator('.monaco-list-row .stack-frame').evaluateAll((frames) =>
      frames.map((f) => ((f as unknown as { innerText?: string }).innerText ?? '').replace(/\s+/g, ' ').trim()),
    );
  }

  /**
   * Clicks the thread row named `name` ("vm1/vcpu0") in CALL STACK, as a user picks a thread, and
   * waits until the list's selection is that thread (or its top frame, which VS Code focuses when
   * the thread's frames are loaded).
   */
  async selectThread(name: string): Promise<void> {
    await this.showRunAndDebug();
    await this.expandPane('Call Stack');
    const rows = this.pane('Call Stack').first().locator('.monaco-list-row');
    const row = rows.filter({ has: this.page.locator('.thread .name', { hasText: exactly(name) }) }).first();
    await row.waitFor();
    await row.locator('.thread .name').click();
    await poll(`thread ${name} selected in CALL STACK`, async () => {
      const list = await rows.evaluateAll((els) => els.map((el) => ({
        thread: (el.querySelector('.thread .name')?.textContent ?? '').trim(),
        frame: el.querySelector('.stack-frame') !== null,
        selected: el.getAttribute('aria-selected') === 'true',
      })));
      const at = list.findIndex((r) => r.thread === name);
      const selected = list.findIndex((r) => r.selected);
      if (at < 0 || selected < at) return undefined;
      return list.slice(at + 1, selected + 1).every((r) => r.frame) ? true : undefined;
    });
  }

  /** The text of the status bar item matching `which` (icons are not text); waits for one to. */
  async statusBarText(which: RegExp, timeoutMs = DEFAULT_TIMEOUT): Promise<string> {
    return poll(`a status bar item ${which}`, async () => {
      const texts = await this.page.locator('.part.statusbar .statusbar-item').evaluateAll((items) =>
        items.map((i) => ((i as unknown as { innerText?: string }).innerText ?? '').replace(/\s+/g, ' ').trim()));
      return texts.find((t) => which.test(t));
    }, timeoutMs);
  }

  /** The description a view shows in its pane header (a tree view's `description`). */
  async paneDescription(title: string): Promise<string> {
    return ((await this.pane(title).first().locator('.pane-header .description').textContent()) ?? '').trim();
  }

  /** The exception widget's text in the editor (shown when paused on an exception filter). */
  async exceptionWidgetText(): Promise<string> {
    const w = this.page.locator('.exception-widget').first();
    await w.waitFor({ timeout: 15_000 });
    return (await w.innerText()).replace(/\s+/g, ' ').trim();
  }

  /** F10, then waits until the top stack frame differs from before (and the thread is paused). */
  async stepOver(): Promise<string> {
    const before = (await this.stackFrames())[0];
    await this.page.locator('.editor-instance .monaco-editor').first().click({ position: { x: 5, y: 5 } }).catch(() => undefined);
    await this.page.keyboard.press('F10');
    return poll('the top frame to change after a step', async () => {
      const top = (await this.stackFrames())[0];
      return top !== undefined && top !== before ? top : undefined;
    });
  }

  async continue(): Promise<void> {
    await this.page.keyboard.press('F5');
  }

  /** The VARIABLES view's rendered rows (scopes at level 1, their variables below). */
  async variables(): Promise<VariableRow[]> {
    await this.showRunAndDebug();
    await this.expandPane('Variables');
    return this.pane('Variables').first().locator('.monaco-list-row').evaluateAll((rows) =>
      rows.map((row) => {
        const name = row.querySelector('.name') ?? row.querySelector('.scope') ?? row;
        return {
          name: (name.textContent ?? '').trim().replace(/\s*[=:]\s*$/, ''),
          value: (row.querySelector('.value')?.textContent ?? '').trim(),
          level: Number(row.getAttribute('aria-level') ?? '1'),
        };
      }),
    );
  }

  private get repl(): Locator {
    return this.page.locator('.repl');
  }

  /** The Debug Console's text, one entry a line. */
  async debugConsole(): Promise<string> {
    if (!(await this.repl.isVisible())) await this.runCommand('Debug: Focus on Debug Console View');
    await this.repl.waitFor();
    const rows = this.repl.locator('.monaco-list-row');
    const lines: string[] = [];
    for (let i = 0; i < (await rows.count()); i++) lines.push((await rows.nth(i).innerText()).trim());
    return lines.join('\n');
  }

  /** Types `expression` into the Debug Console and returns the new output it produced. */
  async evaluateInConsole(expression: string, expect: RegExp): Promise<string> {
    const before = await this.debugConsole();
    const input = this.page.locator('.repl-input-wrapper .monaco-editor textarea');
    await input.focus();
    await this.page.keyboard.type(expression);
    await this.page.keyboard.press('Enter');
    return poll(`console output ${expect}`, async () => {
      const now = await this.debugConsole();
      const added = now.startsWith(before) ? now.slice(before.length) : now;
      return expect.test(added) ? added.trim() : undefined;
    });
  }

  /** Shift+F5, then waits for the debug toolbar to go away. */
  async stopDebugging(): Promise<void> {
    await this.runCommand('Debug: Stop');
    await this.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 15_000 });
  }

  // --- webviews ------------------------------------------------------------------------------

  /** The inner document of every ready webview (an editor panel or a webview view). */
  private webviewFrames(): FrameLocator[] {
    return [0, 1, 2, 3, 4, 5].map((i) => this.page.frameLocator('iframe.webview.ready').nth(i).frameLocator('#active-frame'));
  }

  /** The text of the first ready webview whose body matches `which`; waits for one to. */
  async webviewText(which: RegExp, timeoutMs = DEFAULT_TIMEOUT): Promise<string> {
    return poll(`a webview showing ${which}`, async () => {
      const count = await this.page.locator('iframe.webview.ready').count();
      for (const frame of this.webviewFrames().slice(0, count)) {
        const text = await frame.locator('body').innerText({ timeout: 1000 }).catch(() => '');
        if (which.test(text)) return text;
      }
      return undefined;
    }, timeoutMs);
  }

  /** The inner frame of the first webview whose text matches, for locating elements in it. */
  async webview(which: RegExp): Promise<FrameLocator> {
    await this.webviewText(which);
    const count = await this.page.locator('iframe.webview.ready').count();
    for (const frame of this.webviewFrames().slice(0, count)) {
      const text = await frame.locator('body').innerText({ timeout: 1000 }).catch(() => '');
      if (which.test(text)) return frame;
    }
    throw new Error(`no webview shows ${which}`);
  }
}
