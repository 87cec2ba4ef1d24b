// The three panels come back after the browser page reloads, against the packaged .vsix: with
// Address Translation, Machine Memory and Event Timeline open while a session is stopped at a
// hidden fault, a reload restores all three at once. In code-server the restored pages race to
// re-register VS Code's webview service worker and some lose (their script request escapes to
// the network): before the fix those panels stayed blank. Each must show its page — "No vmem
// debug session" (a reload ends the extension host, so the session) — and then follow a new
// session's stop with live content.
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { referenceStop } from './reference';
import type { ReferenceStop } from './reference';
import { hexPattern, ungrouped } from './text';
import { Workbench, poll } from './workbench';

const PROGRAM = 'two-processes.s';
const CONFIG = 'two processes (shadow)';

/** Each panel's page, recognised by its toolbar, saying `what`. */
const PANELS = {
  translation: (what: string) => new RegExp(`Follow stop[\\s\\S]*${what}`),
  memory: (what: string) => new RegExp(`Colour:[\\s\\S]*${what}`),
  timeline: (what: string) => new RegExp(`^\\s*VM\\b[\\s\\S]*${what}`),
};

describe('webview panels restored after a page reload', function () {
  this.timeout(240_000);
  let wb: Workbench;
  let ref: ReferenceStop;

  before(async () => {
    wb = Workbench.fromContext('restore');
    ref = await referenceStop(join(wb.workspace, PROGRAM), 'shadow', 'pf-hidden');
    wb.writeLaunchJson([{ type: 'vmem', request: 'launch', name: CONFIG, program: `\${workspaceFolder}/${PROGRAM}`, mode: 'shadow', stopOnEntry: true }]);
    await wb.open();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await wb.shot(`failed-${this.currentTest.title.replace(/\W+/g, '-')}`);
  });

  /** The editor, so the next palette key (F1) reaches the workbench rather than a webview. */
  async function focusEditor(): Promise<void> {
    await wb.page.locator('.editor-instance .monaco-editor').first().click({ position: { x: 5, y: 5 } }).catch(() => undefined);
  }

  async function stopAtHiddenFault(): Promise<void> {
    // A panel restored from an earlier suite may hold the keyboard focus.
    await focusEditor();
    await wb.startDebugging(CONFIG);
    await wb.waitForPaused(/entry/i);
    await wb.enableExceptionFilter('Hidden page fault');
    await focusEditor();
    await wb.continue();
    await wb.waitForPaused(/exception|fault/i);
  }

  /** For a failure: each webview's outer frame and what its inner document holds. */
  async function webviewFrames(): Promise<string> {
    const lines: string[] = [];
    for (const f of wb.page.frames()) {
      if (!/webview\/browser\/pre\/(index|fake)/.test(f.url())) continue;
      const kind = /fake\.html/.test(f.url()) ? 'inner' : 'outer';
      const body = await f.evaluate('document.body ? document.body.innerHTML.replace(/\\s+/g, " ").slice(0, 160) : "(no body)"').catch((e: Error) => `(${e.message})`);
      lines.push(`${kind} ${new URL(f.url()).searchParams.get('id')?.slice(0, 8)}: ${kind === 'inner' ? body : String(body).includes('active-frame') ? 'has its inner frame' : 'NO inner frame (content never injected)'}`);
    }
    return lines.join('\n');
  }

  it('stops at a hidden fault with the three panels open', async () => {
    await wb.openFile(PROGRAM);
    await stopAtHiddenFault();
    const gva = ref.context.focusAddress ?? '';
    await focusEditor();
    await wb.runCommand('VMem: Show Address Translation');
    await wb.webviewText(new RegExp(`stop \\d+ · Hidden page fault at gva ${hexPattern(gva).source}`, 'i'), 30_000);
    await focusEditor();
    await wb.runCommand('VMem: Show Machine Memory');
    await wb.webviewText(PANELS.memory('frames, '), 30_000);
    await focusEditor();
    await wb.runCommand('VMem: Show Event Timeline');
    await wb.webviewText(PANELS.timeline('events captured'), 30_000);
    await wb.shot('three-panels-stopped');
  });

  it('after a page reload, every panel shows its page (no session now), none blank', async () => {
    // "Developer: Reload Window" reloads the browser page after the workbench has saved its
    // editors (a bare page.reload() right after opening them can lose them: web storage is flushed
    // lazily). The webviews then go through the same restore as after any page reload.
    // The extension host's console reaches the page's: which pages had to be loaded again.
    const retries: string[] = [];
    wb.page.on('console', (m) => {
      if (/VMem: the .* panel's (script did not start|script never started|webview never loaded)/.test(m.text())) retries.push(m.text().replace(/^.*VMem:/, 'VMem:'));
    });
    await focusEditor();
    const before = await wb.page.evaluate(() => performance.timeOrigin);
    await wb.runCommand('Developer: Reload Window');
    await poll('the page to reload', async () => ((await wb.page.evaluate(() => performance.timeOrigin).catch(() => before)) !== before ? true : undefined), 60_000);
    await wb.page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 60_000 });
    // A page that lost the service-worker race is loaded again within seconds (loadWatchdog.ts).
    for (const [name, page] of Object.entries(PANELS)) {
      const text = await wb.webviewText(page('No vmem debug session'), 45_000).catch(async (e: Error) => {
        throw new Error(`the ${name} panel did not come back: ${e.message}\n${await webviewFrames()}\n${retries.join('\n')}`);
      });
      assert.ok(text.trim().length > 0, name);
    }
    await wb.shot('reloaded-no-session');
    console.log(`      (pages loaded again after the reload: ${retries.length ? retries.join(' | ') : 'none this time'})`);
    const frames = await wb.page.locator('iframe.webview').count();
    assert.ok(frames >= 3, `three webviews restored, found ${frames}`);
  });

  it('the restored panels follow a new session: the fault\'s walk, the frame map, the events', async () => {
    await focusEditor();
    await stopAtHiddenFault();
    const gva = ref.context.focusAddress ?? '';
    const translation = ungrouped(await wb.webviewText(new RegExp(`stop \\d+ · Hidden page fault at gva ${hexPattern(gva).source}`, 'i'), 30_000));
    for (const level of ref.walk.guest.levels) assert.match(translation, hexPattern(level.tableAddress), `guest level ${level.name}`);
    assert.doesNotMatch(translation, /Restored:/, 'the live answer replaced the saved picture');
    await wb.webviewText(PANELS.memory('frames, '), 30_000);
    await wb.webviewText(PANELS.timeline('events captured'), 30_000);
    await wb.shot('reloaded-then-stopped');
  });

  it('stops debugging', async () => {
    await wb.stopDebugging();
  });
});
