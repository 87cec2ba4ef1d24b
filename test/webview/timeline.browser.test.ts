// The Event Timeline webview in Chromium with a real event log: the series and their counts, the
// stop marks, bucket selection by mouse and keyboard, the event list, escaping, and a clean CSP.
import * as assert from 'node:assert/strict';
import { browserSuite, fixture } from './harness';
import type { OpenedView } from './harness';
import type { EventsWire, StatisticsWire } from '../../src/debugAdapter/viewsProtocol';
import type { EventsMessage } from '../../src/webview/shared/messages';

const log = fixture<{ events: EventsWire; stats: StatisticsWire }>('shadow-events.json');

function message(events: EventsWire, reset = true): EventsMessage {
  const icount = log.stats.vms[0].instructions;
  return {
    type: 'events', reset, events: events.events, total: events.total, capacity: events.capacity, counts: events.counts,
    stops: [{ stopCount: 1, vm: 1, icount: Math.floor(icount / 3), reason: 'exception', description: 'Hidden page fault' }, { stopCount: 2, vm: 1, icount, reason: 'step' }],
    stop: { stopCount: 2, vm: 1, vcpu: 0, thread: 'vm1/vcpu0', reason: 'step' }, vmNames: { 1: 'vm1' },
  };
}

describe('webview: Event Timeline (Chromium)', function () {
  this.timeout(60_000);
  const harness = browserSuite('FAILED-timeline-');
  const text = harness.text;
  let view: OpenedView;

  it('plots every captured event once, by series, with the stops marked', async () => {
    view = await harness.open('timeline');
    await view.post(message(log.events));
    assert.match(await text('.summary'), new RegExp(`^${log.events.events.length} events captured`));
    const series = (await view.all('button.series', 'text')).map((s) => String(s).trim());
    const hidden = log.events.events.filter((e) => e.event.kind === 'page-fault' && (e.event as { hidden: boolean }).hidden).length;
    assert.ok(series.includes(`hidden fault ${hidden}`), `the hidden faults are a series of their own: ${series.join(', ')}`);
    assert.ok(series.includes(`vm-exit ${log.events.counts['vm-exit']}`));
    const sum = series.reduce((n, s) => n + Number(s.split(' ').at(-1)), 0);
    assert.equal(sum, log.events.events.length);
    assert.deepEqual(await view.all('svg .stop-label', 'text'), ['stop 1', 'stop 2']);
    assert.ok((await view.page.locator('svg rect.bar').count()) > 3);
  });

  it('lists a bucket\'s events on click; a row with a gva opens its translation', async () => {
    view = await harness.open('timeline');
    await view.post(message(log.events));
    const firstBar = view.page.locator('svg rect.bar.series-hidden-fault').first();
    await firstBar.click();
    assert.match(await text('.list-title'), /events? in instructions/);
    const rows = await view.all('.event-row .text', 'text');
    assert.ok(rows.some((r) => /^hidden #PF at 0x/.test(String(r))), rows.join(' | '));
    const translate = view.page.locator('.event-row button[data-gva]').first();
    const gva = await translate.getAttribute('data-gva');
    await translate.click();
    assert.deepEqual((await view.sent()).filter((m) => m.type === 'showTranslation'), [{ type: 'showTranslation', gva }]);
  });

  it('selects buckets with the arrow keys and walks the list with Enter', async () => {
    view = await harness.open('timeline');
    await view.post(message(log.events));
    await view.page.locator('.chart').focus();
    await view.page.keyboard.press('Home');
    // Ctrl+Right: the next bucket that has events.
    await view.page.keyboard.press('Control+ArrowRight');
    assert.match(await text('.list-title'), /^\d+ events? in instructions/);
    assert.match(await text('.sr-only'), /instructions \d/);
    await view.page.keyboard.press('Enter');
    assert.equal((await view.active()).tag, 'div');
    assert.match(String(await view.page.locator('.event-list').getAttribute('aria-activedescendant')), /^ev-0$/);
    await view.page.keyboard.press('ArrowDown');
    assert.equal(await view.page.locator('.event-list').getAttribute('aria-activedescendant'), 'ev-1');
  });

  it('hides and shows a series from its legend button', async () => {
    view = await harness.open('timeline');
    await view.post(message(log.events));
    const before = await view.page.locator('svg rect.bar.series-vm-exit').count();
    assert.ok(before > 0);
    await view.page.locator('button.series', ).nth((await view.all('button.series', 'text')).findIndex((s) => String(s).trim().startsWith('vm-exit'))).click();
    assert.equal(await view.page.locator('svg rect.bar.series-vm-exit').count(), 0);
    assert.deepEqual(((await view.state()) as { hiddenKinds: string[] }).hiddenKinds, ['vm-exit']);
  });

  it('shows console text as text', async () => {
    view = await harness.open('timeline');
    const evil = '<img src=x onerror="document.body.dataset.pwned=1">';
    const events: EventsWire = { total: 1, capacity: 1000, counts: { console: 1 }, events: [{ seq: 0, vm: 1, event: { kind: 'console', text: evil, icount: 10, vcpu: 0, rip: '0x1000' } }] };
    await view.post(message(events));
    await view.page.locator('svg rect.bar').first().click();
    assert.equal(await view.page.locator('img').count(), 0);
    assert.equal(await text('.event-row .text'), `console: ${evil}`);
  });

  it('appends new events and starts over on reset', async () => {
    view = await harness.open('timeline');
    const half = Math.floor(log.events.events.length / 2);
    await view.post(message({ ...log.events, events: log.events.events.slice(0, half) }));
    await view.post(message({ ...log.events, events: log.events.events.slice(half - 5) }, false));
    assert.match(await text('.summary'), new RegExp(`^${log.events.events.length} events captured`), 'the overlap is not counted twice');
    await view.post(message({ ...log.events, events: log.events.events.slice(0, 3) }, true));
    assert.match(await text('.summary'), /^3 events captured/);
    await view.post({ type: 'phase', phase: 'none' });
    assert.match(await text('.placeholder'), /No vmem debug session/);
  });

  for (const theme of ['light', 'dark', 'hc'] as const) {
    it(`renders in the ${theme} theme (screenshot)`, async () => {
      view = await harness.open('timeline', theme, { width: 1100, height: 700 });
      await view.post(message(log.events));
      await view.page.locator('svg rect.bar.series-hidden-fault').first().click();
      await view.page.locator('svg rect.bar').nth(2).hover();
      await harness.screenshot(view, `timeline-${theme}`);
    });
  }
});
