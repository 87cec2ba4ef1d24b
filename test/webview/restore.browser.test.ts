// A panel restored after a page reload (or shown again: retainContextWhenHidden is off) is never
// blank: the Address Translation draws what it last showed, from getState, at once and marked
// as restored, until the host answers; every panel says "Waiting for the debugger…" before its
// first message; a page whose script never arrives still says "Loading …". In Chromium, inside
// the real HTML shell and CSP, with the adapter's payloads.
import * as assert from 'node:assert/strict';
import { browserSuite, fixture } from './harness';
import type { ViewName } from './harness';
import type { TranslationViewState } from '../../src/webview/shared/messages';
import { translationMessage as message } from './payloads';
import type { Answer } from './payloads';

const shadowStops = fixture<{ first: Answer; second: Answer }>('shadow-stops.json');

/** What the page saved at stop 2 of a session (the second hidden fault, compared with the first). */
function savedAtStop2(): TranslationViewState {
  const shown = message(shadowStops.second, 2, { stopCount: 1, ...shadowStops.first });
  return { query: shown.query, source: shown.source, shown };
}

describe('webview: restored panels are never blank (Chromium)', function () {
  this.timeout(60_000);
  const harness = browserSuite('FAILED-restore-');
  const text = harness.text;

  it('Address Translation: draws its saved translation before the host says anything, marked as restored', async () => {
    const saved = savedAtStop2();
    const view = await harness.open('translation', 'dark', undefined, saved);
    // `open` returns once the page said `ready`; nothing has been posted to it.
    const gva = shadowStops.second.walk.gva;
    assert.match(await text('#gva'), /^$/, 'an input has no innerText; its value is checked below');
    assert.equal(await view.page.evaluate<string>("document.getElementById('gva').value"), gva);
    assert.equal(await view.page.locator('.column.guest tr[data-row]').count(), 4, 'the saved guest walk, level by level');
    assert.match(await text('.stop-info'), /vm1\/vcpu0 · stop 2/);
    assert.match(await text('.content'), /changes? since stop 1/, 'the saved changed marks come back too');
    assert.match(await text('.banner'), /Restored: vm1\/vcpu0 at stop 2, as last shown\. Waiting for the debugger…/);
    assert.equal(await view.page.locator('body.stale').count(), 1, 'dimmed: not a live answer');
    assert.equal(await view.page.locator('#vmem-boot').count(), 0, 'the shell\'s Loading line is gone');
    await harness.screenshot(view, 'restore-translation-restored');
  });

  it('Address Translation: the host\'s answer replaces the restored picture, with no marks against it', async () => {
    const view = await harness.open('translation', 'dark', undefined, savedAtStop2());
    // A new session's first stop, same query: the restored stop-2 picture (another session) is no baseline.
    await view.post(message(shadowStops.first, 1));
    assert.equal(await text('.banner').catch(() => ''), '', 'the restored banner is gone');
    assert.equal(await view.page.locator('body.stale').count(), 0);
    assert.match(await text('.stop-info'), /stop 1/);
    assert.doesNotMatch(await text('.content'), /since stop/, 'nothing compared with the restored picture');
    assert.equal(await view.page.locator('.content .changed:not(.swatch)').count(), 0);
    const state = (await view.state()) as TranslationViewState;
    assert.equal(state.shown?.stop.stopCount, 1, 'the new answer is what a later restore shows');
  });

  const idleCases: { phase: 'none' | 'running'; content: RegExp }[] = [
    { phase: 'none', content: /No vmem debug session/ },
    { phase: 'running', content: /Running: the translation appears at the next stop/ },
  ];
  for (const c of idleCases) {
    it(`Address Translation: a restored picture then phase "${c.phase}" says so instead`, async () => {
      const view = await harness.open('translation', 'dark', undefined, savedAtStop2());
      await view.post({ type: 'phase', phase: c.phase });
      assert.match(await text('.content'), c.content);
      assert.equal(await view.page.locator('.column.guest tr[data-row]').count(), 0, 'the other session\'s walk is not kept');
      assert.equal(await text('.stop-info').catch(() => ''), '');
      if (c.phase === 'none') await harness.screenshot(view, 'restore-translation-no-session');
    });
  }

  it('Address Translation: a saved state without a picture (or from an older version) waits, not blank', async () => {
    const view = await harness.open('translation', 'dark', undefined, { query: { gva: '0x1234', access: 'write', user: true }, source: 'typed', shown: { type: 'translation' } });
    assert.match(await text('.content'), /Waiting for the debugger…/);
    assert.equal(await view.page.evaluate<string>("document.getElementById('gva').value"), '0x1234');
  });

  const views: { name: ViewName; title: RegExp; region: string }[] = [
    { name: 'translation', title: /^Loading translation…$/, region: '.content' },
    { name: 'memory', title: /^Loading memory…$/, region: '.placeholder' },
    { name: 'timeline', title: /^Loading timeline…$/, region: '.placeholder' },
  ];
  for (const v of views) {
    it(`${v.name}: before the host's first message, says it is waiting for the debugger`, async () => {
      const view = await harness.open(v.name);
      assert.match(await text(v.region), /Waiting for the debugger…/);
      assert.equal(await view.page.locator('#vmem-boot').count(), 0);
      if (v.name === 'memory') await harness.screenshot(view, 'restore-memory-waiting');
    });

    it(`${v.name}: a page whose script never loads still shows the shell's Loading line`, async () => {
      const page = await harness.openWithoutScript(v.name);
      const boot = (await page.locator('#vmem-boot').innerText()).trim();
      assert.match(boot, v.title);
      assert.equal(await page.evaluate<number>("document.querySelectorAll('body > :not(script)').length"), 1, 'the Loading line only: nothing drawn');
    });
  }

  const running: { name: ViewName; words: RegExp }[] = [
    { name: 'memory', words: /Running: the map appears at the next stop/ },
    { name: 'timeline', words: /Running: the events appear/ },
  ];
  for (const r of running) {
    it(`${r.name}: running with nothing drawn yet says so`, async () => {
      const view = await harness.open(r.name);
      await view.post({ type: 'phase', phase: 'running' });
      assert.match(await text('.placeholder'), r.words);
      assert.match(await text('.banner'), /Running…/);
    });
  }
});
