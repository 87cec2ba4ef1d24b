// End to end, as a student would do it, against the packaged .vsix installed in code-server:
// open the two-process example, debug it in shadow mode, break on the first hidden page fault,
// step, break on a line breakpoint, stop. Screenshots of each step go to test-results/ui/.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { referenceStepThenContinue, referenceStop } from './reference';
import { hexPattern, ungrouped } from './text';
import type { ReferenceStop } from './reference';
import { Workbench } from './workbench';

const PROGRAM = 'two-processes.s';

/** The 1-based line of the first source line matching `pattern` (the test follows the example's edits). */
function lineOf(file: string, pattern: RegExp): number {
  const i = readFileSync(file, 'utf8').split('\n').findIndex((l) => pattern.test(l));
  if (i < 0) throw new Error(`${pattern} not found in ${file}`);
  return i + 1;
}

describe('end to end: a hidden page fault in shadow mode', function () {
  this.timeout(240_000);
  let wb: Workbench;
  let ref: ReferenceStop;
  let next: Awaited<ReturnType<typeof referenceStepThenContinue>>;

  before(async () => {
    wb = Workbench.fromContext('e2e');
    // The same stop reached by the bundled adapter alone: what the views must agree with.
    ref = await referenceStop(join(wb.workspace, PROGRAM), 'shadow', 'pf-hidden');
    // …and the stop after it that F10 then F5 reach (the next hidden fault).
    next = await referenceStepThenContinue(join(wb.workspace, PROGRAM), 'shadow', 'pf-hidden');
    wb.writeLaunchJson([
      { type: 'vmem', request: 'launch', name: 'two processes (shadow)', program: `\${workspaceFolder}/${PROGRAM}`, mode: 'shadow', stopOnEntry: true },
    ]);
    await wb.open();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await wb.shot(`failed-${this.currentTest.title.replace(/\W+/g, '-')}`);
  });

  it('opens the example by quick open', async () => {
    await wb.openFile(PROGRAM);
    await wb.shot('opened');
  });

  it('starts debugging and pauses on entry', async () => {
    await wb.startDebugging('two processes (shadow)');
    const state = await wb.waitForPaused(/entry/i);
    assert.match(state, /entry/i);
    const frames = await wb.stackFrames();
    assert.ok(frames.length > 0, 'no stack frames while paused');
    await wb.shot('paused-on-entry');
  });

  it('lists the adapter\'s event filters in BREAKPOINTS and enables "Hidden page fault"', async () => {
    const rows = await wb.breakpointRows();
    for (const label of [/^true page fault$/i, /^hidden page fault$/i, /^cr3 write$/i, /^invlpg$/i]) {
      assert.ok(rows.some((r) => label.test(r.text)), `no filter ${label} in ${rows.map((r) => r.text).join(' | ')}`);
    }
    await wb.enableExceptionFilter('Hidden page fault');
    const after = await wb.breakpointRows();
    assert.equal(after.find((r) => /^hidden page fault$/i.test(r.text))?.checked, true);
    assert.equal(after.find((r) => /^true page fault$/i.test(r.text))?.checked, false, 'only the one filter was asked for');
    await wb.shot('filter-enabled');
  });

  it('continues and pauses on the hidden page fault with its description', async () => {
    await wb.continue();
    const state = await wb.waitForPaused(/hidden page fault|exception/i);
    const widget = await wb.exceptionWidgetText();
    // The adapter's description names the faulting gva and why the fault is hidden.
    assert.match(widget, /Hidden page fault at gva 0x[0-9a-f]{8} \(shadow miss/i, widget);
    assert.match(`${state} ${widget}`, /hidden page fault/i);
    await wb.shot('paused-on-hidden-fault');
    assert.ok(ref.context.focusAddress !== null && hexPattern(ref.context.focusAddress).test(widget), `the widget names ${ref.context.focusAddress}`);
  });

  it('shows the guest PT root\'s entries in the Page Tables view, as vmem/tableEntries reports them', async () => {
    await wb.openView('Page Tables', 'VMem');
    await wb.waitForTreeRow('Page Tables', /^Guest PT$/);
    await wb.expandTreeRow('Page Tables', /^Guest PT$/);
    const rows = await wb.waitForTreeRow('Page Tables', /^\[\d+\]/);
    await wb.shot('page-tables');
    const entryRows = rows.filter((r) => /^\[\d+\]/.test(r.label));
    for (const e of ref.guestRootEntries.slice(0, 8)) {
      const row = entryRows.find((r) => r.label.startsWith(`[${e.index}]`));
      assert.ok(row, `no row for entry [${e.index}] in ${entryRows.map((r) => r.label).join(' | ')}`);
      if (e.target !== null) assert.match(ungrouped(row.description), hexPattern(e.target), `entry [${e.index}] target`);
    }
  });

  it('shows the vCPU\'s TLB entries in the TLB view, as vmem/tlb reports them', async () => {
    await wb.openView('TLB', 'VMem');
    const mine = ref.tlb.entries.filter((e) => e.mine);
    assert.ok(mine.length > 0, 'the reference TLB is empty: nothing to compare');
    const rows = await wb.waitForTreeRow('TLB', /→/);
    await wb.shot('tlb');
    const labels = rows.map((r) => ungrouped(r.label));
    const visible = mine.slice(0, Math.min(mine.length, rows.length - 1, 8));
    for (const e of visible) {
      const re = new RegExp(`${hexPattern(e.vpn).source}\\s*→\\s*${hexPattern(Math.floor(e.frame / 4096)).source}`, 'i');
      assert.ok(labels.some((l) => re.test(l)), `no TLB row vpn ${e.vpn.toString(16)} → frame ${Math.floor(e.frame / 4096).toString(16)} in ${labels.join(' | ')}`);
    }
  });

  it('translates the faulting address in the Address Translation webview, as vmem/walk reports it', async () => {
    const gva = ref.context.focusAddress ?? '';
    await wb.runCommand('VMem: Translate Address…');
    const box = wb.page.locator('.quick-input-widget .quick-input-box input');
    await box.waitFor();
    await box.fill(gva);
    await wb.page.keyboard.press('Enter');
    const text = ungrouped(await wb.webviewText(hexPattern(gva), 30_000));
    await wb.shot('address-translation');
    for (const level of ref.walk.guest.levels) {
      assert.match(text, hexPattern(level.tableAddress), `guest level ${level.name}: table address`);
    }
    if (ref.walk.gpa !== null) assert.match(text, hexPattern(ref.walk.gpa), 'the guest-physical result');
    if (ref.walk.mpa !== null) assert.match(text, hexPattern(ref.walk.mpa), 'the machine-physical result');
  });

  it('steps over (F10): the top frame moves', async () => {
    const top = await wb.stepOver();
    assert.ok(top.length > 0);
    await wb.waitForPaused(/paused|step/i);
    await wb.shot('stepped');
  });

  it('shows registers in VARIABLES', async () => {
    const vars = await wb.variables();
    const listing = vars.map((v) => `${v.name}=${v.value}`).join(', ');
    assert.equal(vars[0]?.name, 'Registers', listing);
    // The first hidden fault comes after `mov rsp, KSTACK_TOP`: the stack pointer is set.
    for (const reg of ['rax', 'rsp']) assert.ok(vars.some((v) => v.name === reg && /^0x[0-9a-f]{16}$/i.test(v.value)), `no ${reg} in ${listing}`);
    assert.notEqual(vars.find((v) => v.name === 'rsp')?.value, '0x0000000000000000', listing);
  });

  it('continues (F5) to the next hidden fault: the Address Translation panel and the TLB view mark what changed', async () => {
    const gva = /gva (0x[0-9a-f]+)/i.exec(next.stop.body.description ?? '')?.[1];
    assert.ok(gva, `the reference's next stop is a fault: ${next.stop.body.description}`);
    // The TLB view records this stop's entries only while it is visible: show it before F5,
    // without the palette (F5 must reach the workbench, not a quick input).
    await wb.openView('TLB', 'VMem');
    await wb.waitForTreeRow('TLB', /→/);
    await wb.page.locator('.editor-instance .monaco-editor').first().click({ position: { x: 5, y: 5 } }).catch(() => undefined);
    await wb.continue();
    // CALL STACK is not in the side bar now (the VMem container is): wait on the panel instead.
    const stopLine = new RegExp(`stop (\\d+) · Hidden page fault at gva ${hexPattern(gva).source}`, 'i');
    const text = ungrouped(await wb.webviewText(stopLine, 30_000));
    const stopCount = Number(stopLine.exec(text)?.[1]);
    const legend = /(\d+) changes? since stop (\d+)/.exec(text);
    assert.ok(legend, `the panel names what changed since the previous stop: ${text.slice(0, 400)}`);
    assert.ok(Number(legend[1]) > 0, legend[0]);
    assert.equal(Number(legend[2]), stopCount - 1, `compared with the stop before (F10's): ${legend[0]}`);
    const panel = await wb.webview(stopLine);
    const marked = await panel.locator('.content .changed:not(.swatch)').count();
    assert.ok(marked > 0, 'no element of the translation is highlighted as changed');
    const widget = await wb.exceptionWidgetText();
    assert.match(widget, new RegExp(`Hidden page fault at gva ${hexPattern(gva).source}`, 'i'), widget);

    // The TLB view: vm1/vcpu0's entries as vmem/tlb reports them, the new ones marked.
    const rows = await wb.waitForTreeRow('TLB', /→/);
    const changed = rows.filter((r) => /• changed$/.test(r.description));
    assert.ok(changed.length > 0, `no TLB row marked changed: ${rows.map((r) => `${r.label} ${r.description}`).join(' | ')}`);
    const entries = next.tlb.entries;
    for (const r of changed) {
      const label = ungrouped(r.label);
      assert.ok(entries.some((e) => new RegExp(`${hexPattern(e.vpn).source}\\s*→\\s*${hexPattern(Math.floor(e.frame / 4096)).source}`, 'i').test(label)), `changed row ${label} is not in vmem/tlb`);
    }
    await wb.shot('changed-highlighted');
  });

  it('stops at a line breakpoint in process A once the fault filter is off', async () => {
    await wb.openFile(PROGRAM);
    const line = lineOf(join(wb.workspace, PROGRAM), /^\s*mov r12d, 1\b/);
    await wb.toggleBreakpoint(line); // waits for the glyph in the margin
    // Untick the filter, or the next hidden fault would stop first.
    await wb.enableExceptionFilter('Hidden page fault', false);
    await wb.continue();
    await wb.waitForPaused(/breakpoint/i);
    const top = (await wb.stackFrames())[0] ?? '';
    assert.match(top, new RegExp(`${PROGRAM.replace('.', '\\.')}\\s*${line}\\b`), top);
    await wb.shot('paused-on-line-breakpoint');
  });

  it('stops debugging', async () => {
    await wb.stopDebugging();
    await wb.shot('stopped');
  });
});
