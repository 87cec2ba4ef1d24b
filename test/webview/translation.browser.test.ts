// The Address Translation webview in Chromium, fed the adapter's real payloads: what it draws
// for each mode, the changed marks after a second stop, keyboard use, escaping, and a clean CSP.
import * as assert from 'node:assert/strict';
import { browserSuite, fixture } from './harness';
import type { OpenedView } from './harness';
import { translationMessage as message } from './payloads';
import type { Answer } from './payloads';
import type { TlbWire, TranslationWire } from '../../src/debugAdapter/viewsProtocol';

const shadowStops = fixture<{ first: Answer; second: Answer }>('shadow-stops.json');
const nested = fixture<{ walk: TranslationWire; kernel: TranslationWire; tlb: TlbWire; unmapped: TranslationWire }>('nested-2d.json');
const paravirt = fixture<Answer>('paravirt.json');
const native = fixture<{ walk: TranslationWire }>('native.json');

describe('webview: Address Translation (Chromium)', function () {
  this.timeout(60_000);
  const harness = browserSuite('FAILED-');
  const text = harness.text;
  let view: OpenedView;

  it('says there is no session, then running', async () => {
    view = await harness.open('translation');
    await view.post({ type: 'phase', phase: 'none' });
    assert.match(await text('.content'), /No vmem debug session/);
    await view.post(message(shadowStops.second, 2));
    await view.post({ type: 'phase', phase: 'running' });
    assert.match(await text('.banner'), /Running…/);
    assert.equal(await view.page.locator('body.stale').count(), 1, 'the last picture is dimmed while running');
  });

  it('draws the guest walk level by level (shadow mode, 4-level)', async () => {
    view = await harness.open('translation');
    await view.post(message(shadowStops.second, 2));
    const rows = view.page.locator('.column.guest tr[data-row]');
    assert.equal(await rows.count(), 4);
    const table: string[] = [];
    for (let i = 0; i < 4; i++) table.push((await rows.nth(i).innerText()).replace(/\s+/g, ' ').trim());
    assert.deepEqual(table, [
      'PML4 gpa 0x100000 0 0x101027 A US RW P R W X U',
      'PDPT gpa 0x101000 0 0x102027 A US RW P R W X U',
      'PD gpa 0x102000 2 0x103027 A US RW P R W X U',
      'PT gpa 0x103000 0 0x800027 A US RW P R W X U',
    ]);
    assert.match(await text('.column.guest .outcome'), /gpa 0x800000 \(4 KiB page\)/);
    assert.match(await text('.chain'), /gva 0x400000 → gpa 0x800000 → mpa 0x5000/);
    assert.match(await text('.column.ept'), /shadow mode: no EPT/);
    assert.match(await text('.column.shadow .agreement'), /agrees with guest walk ∘ p2m/);
    assert.match(await text('.column.shadow .note'), /guest walk ∘ p2m = shadow = mpa 0x5000/);
    assert.equal(await view.page.locator('.column.shadow tr[data-row]').count(), 4);
    assert.match(await text('.column.tlb .tlb-status'), /^hit/);
    assert.match(await text('.column.tlb .kv'), /frame 0x5000/);
    assert.match(await text('.column.tlb .tag'), /VPID 1 · PCID 0/);
  });

  it('marks what changed since the previous stop (A bits set, shadow filled, TLB filled)', async () => {
    view = await harness.open('translation');
    await view.post(message(shadowStops.first, 1));
    assert.equal(await view.page.locator('.changed').count(), 0, 'nothing to compare with at the first stop');
    assert.match(await text('.column.shadow .note'), /no shadow entry yet/);
    assert.match(await text('.column.tlb .tlb-status'), /^miss/);
    // The second stop, without `previous`: the webview compares with what it showed.
    await view.post(message(shadowStops.second, 2));
    const guestChanged = await view.all('.column.guest tr.changed', 'data-key');
    assert.deepEqual(guestChanged, ['guest:2', 'guest:1'], 'the PDE and PTE got their A bits');
    const flagChanges = await view.all('.column.guest .flag.changed', 'text');
    assert.deepEqual(flagChanges, ['A', 'A']);
    const shadowChanged = await view.all('.column.shadow tr.changed', 'data-key');
    assert.deepEqual(shadowChanged, ['shadow:2', 'shadow:1'], 'the shadow PDE was filled and the shadow PTE appeared');
    assert.equal(await view.page.locator('.tlb-status.changed').count(), 1, 'the TLB entry appeared');
    assert.match(await text('.legend'), /changes since stop 1/);
    assert.equal(await view.page.locator('.column.guest tr.changed').first().getAttribute('title'), 'changed since stop 1');
    await harness.screenshot(view, 'translation-shadow-changed-dark');
  });

  it('marks changes from the host-sent previous answer, too', async () => {
    view = await harness.open('translation');
    await view.post(message(shadowStops.second, 5, { stopCount: 4, ...shadowStops.first }));
    assert.match(await text('.legend'), /since stop 4/);
    assert.ok((await view.page.locator('.changed').count()) >= 5);
  });

  it('draws the nested 2-D walk as a grid of 24 references', async () => {
    view = await harness.open('translation');
    await view.post(message(nested, 3));
    const cells = view.page.locator('.grid2d .g-cell[data-row]');
    assert.equal(await cells.count(), 24);
    const orders = (await view.all('.grid2d .g-cell[data-row] .order', 'text')).map(Number);
    assert.deepEqual([...orders].sort((a, b) => a - b), Array.from({ length: 24 }, (_, i) => i + 1), 'every reference numbered once');
    assert.equal(await text('.refcount .total'), '24');
    assert.match(await text('.refcount'), /\(4\+1\)\(4\+1\)−1 = 24/);
    const labels = await view.all('.grid2d .g-label > span:first-child', 'text');
    assert.deepEqual(labels, ['guest PML4E', 'guest PDPTE', 'guest PDE', 'guest PTE', 'data page']);
    assert.match(await text('.column.shadow'), /nested mode: no shadow page tables/);
    assert.match(await text('.column.guest .subtitle'), /4 guest entries read/);
    await harness.screenshot(view, 'translation-nested-dark');
  });

  it('navigates the 2-D grid with arrow keys and opens a table with Enter', async () => {
    view = await harness.open('translation');
    await view.post(message(nested, 3));
    const first = view.page.locator('.grid2d .g-cell[data-row]').first();
    await first.focus();
    await view.page.keyboard.press('ArrowRight');
    await view.page.keyboard.press('ArrowDown');
    const focused = await view.active();
    assert.deepEqual({ row: focused.data.row, col: focused.data.col, tab: focused.tabindex }, { row: '1', col: '1', tab: '0' });
    await view.page.keyboard.press('Enter');
    const sent = await view.sent();
    const open = sent.filter((m) => m.type === 'openMemory');
    assert.equal(open.length, 1);
    assert.equal(open[0].reference, focused.data.ref);
    assert.match(String(open[0].reference), /^mpa:0x[0-9a-f]+$/);
  });

  it('tabs from the address field through the toolbar into the walk; arrows move between levels', async () => {
    view = await harness.open('translation');
    await view.post(message(shadowStops.second, 2));
    await view.page.locator('#gva').focus();
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      await view.page.keyboard.press('Tab');
      const a = await view.active();
      order.push(a.id || a.data.key || a.tag);
    }
    assert.deepEqual(order, ['access', 'user', 'button', 'follow', 'guest:4', 'shadow:4']);
    await view.page.keyboard.press('Shift+Tab');
    await view.page.keyboard.press('ArrowDown');
    await view.page.keyboard.press('ArrowDown');
    assert.equal((await view.active()).data.key, 'guest:2');
    await view.page.keyboard.press('Enter');
    const open = (await view.sent()).filter((m) => m.type === 'openMemory');
    assert.deepEqual(open.at(-1), { type: 'openMemory', reference: 'gpa:1:0x102000', label: 'PD table 0x102000' });
  });

  it('sends a typed address as a translate intent and rejects what is not one', async () => {
    view = await harness.open('translation');
    await view.post(message(shadowStops.second, 2));
    await view.page.locator('#gva').fill('not an address');
    await view.page.locator('#gva').press('Enter');
    assert.match(await text('.input-error'), /is not an address/);
    assert.equal((await view.sent()).filter((m) => m.type === 'translate').length, 0);
    await view.page.locator('#gva').fill('0x7FFF_0000');
    await view.setValue('#access', 'write');
    await view.page.locator('#gva').press('Enter');
    const t = (await view.sent()).filter((m) => m.type === 'translate');
    assert.deepEqual(t, [{ type: 'translate', query: { gva: '0x7fff0000', access: 'write', user: true } }]);
    const shown = message(shadowStops.second, 2);
    assert.deepEqual(await view.state(), { query: { gva: '0x400000', access: 'fetch', user: true }, source: 'focus', shown: JSON.parse(JSON.stringify(shown)) },
      'the state holds what is shown (the query, and the picture a restored page draws at once)');
  });

  it('shows guest-controlled text as text, never markup', async () => {
    view = await harness.open('translation');
    const evil = '<img src=x onerror="document.body.dataset.pwned=1">';
    const msg = message(shadowStops.first, 1);
    msg.stop.description = `Hidden page fault ${evil}`;
    msg.walk = { ...msg.walk, shadow: msg.walk.shadow && { ...msg.walk.shadow, note: evil } };
    await view.post(msg);
    assert.equal(await view.page.locator('img').count(), 0);
    assert.equal(await view.page.evaluate('document.body.dataset.pwned'), undefined);
    assert.ok((await text('.stop-info')).includes(evil));
    assert.equal(await text('.column.shadow .note'), evil);
  });

  it('says why columns do not apply: paravirtual and native modes', async () => {
    view = await harness.open('translation');
    await view.post(message(paravirt, 7));
    assert.match(await text('.column.ept'), /paravirtual mode: no EPT/);
    assert.match(await text('.column.shadow'), /paravirtual mode: no shadow page tables/);
    assert.match(await text('.column.guest tr[data-row] .addr'), /^mpa /, 'the guest tables hold machine frames');
    assert.match(await text('.column.tlb .tlb-status'), /^hit/);
    await view.post(message(native, 8));
    assert.match(await text('.column.ept'), /native mode: no EPT/);
    assert.match(await text('.column.shadow'), /native mode: no shadow page tables/);
  });

  for (const theme of ['light', 'dark', 'hc'] as const) {
    it(`renders in the ${theme} theme (screenshot)`, async () => {
      view = await harness.open('translation', theme);
      await view.post(message(nested, 3));
      await harness.screenshot(view, `translation-nested-${theme}`);
      await view.post(message(shadowStops.first, 1));
      await view.post(message(shadowStops.second, 2));
      await harness.screenshot(view, `translation-shadow-${theme}`);
    });
  }
});
