// The Machine Memory webview in Chromium with the adapter's real frame maps: legend counts, hover
// details, click and keyboard to open a frame, the viewport it asks for, changed frames, escaping.
import * as assert from 'node:assert/strict';
import { browserSuite, fixture } from './harness';
import type { OpenedView } from './harness';
import type { FrameMapWire } from '../../src/debugAdapter/viewsProtocol';
import type { FrameMapMessage } from '../../src/webview/shared/messages';

const shadowMap = fixture<FrameMapWire>('shadow-framemap.json');
const twoVms = fixture<FrameMapWire>('two-vms-framemap.json');
const native = fixture<{ frameMap: FrameMapWire }>('native.json').frameMap;

// The map's geometry (src/webview/memory/main.ts): cells of 11 px after a 78 px gutter.
const CELL = 11;
const GUTTER = 78;

function message(map: FrameMapWire, stopCount = 1, fromMpn = 0, toMpn = map.total): FrameMapMessage {
  return { type: 'frameMap', stop: { stopCount, vm: 1, vcpu: 0, thread: 'vm1/vcpu0', reason: 'step' }, fromMpn, toMpn, fromPpn: 0, toPpn: 1024, map };
}

describe('webview: Machine Memory (Chromium)', function () {
  this.timeout(60_000);
  const harness = browserSuite('FAILED-memory-');
  const text = harness.text;
  let view: OpenedView;
  const columns = async (): Promise<number> => view.page.evaluate<number>(`(() => { const w = document.querySelector('.map-scroll').clientWidth; let c = 1; const fit = Math.floor((w - ${GUTTER}) / ${CELL}); while (c * 2 <= fit && c < 512) c *= 2; return c; })()`);

  it('shows the census as a legend and the totals', async () => {
    view = await harness.open('memory');
    await view.post(message(shadowMap));
    assert.match(await text('.summary'), /32,768 frames, 21 in use/);
    const rows: string[] = [];
    for (let i = 0; i < 3; i++) rows.push((await view.page.locator('table.legend tbody tr').nth(i).innerText()).replace(/\s+/g, ' ').trim());
    assert.equal(await view.page.locator('table.legend tbody tr').count(), 3);
    assert.equal(rows[0], 'hypervisor · · · 1 1');
    assert.equal(rows[1], 'vm1 11 4 5 · 20', 'vm1: 11 guest-data, 4 guest-pt, 5 shadow-pt, no hypervisor frames, 20 in all');
    assert.equal(rows[2], 'free 32,747');
    const heads = await view.all('table.legend thead th', 'text');
    assert.deepEqual(heads.map((h) => String(h).trim()), ['owner', 'guest data', 'guest page table', 'shadow page table', 'hypervisor', 'frames']);
  });

  it('tells a frame\'s owner, use and run on hover, and opens it on click', async () => {
    view = await harness.open('memory');
    await view.post(message(shadowMap));
    // mpn 8 starts vm1's run of guest page-table frames.
    const run = shadowMap.runs.find((r) => r.mpn === 8);
    assert.equal(run?.use, 'guest-pt');
    await view.page.locator('canvas.map').hover({ position: { x: GUTTER + 8 * CELL + 4, y: 4 } });
    assert.deepEqual((await view.all('.tooltip div', 'text')), ['mpn 0x8 · mpa 0x8000', 'owner: vm1', 'use: guest page table', `run 0x8–0x${(8 + run.count - 1).toString(16)} (${run.count} frames)`]);
    await view.page.locator('canvas.map').click({ position: { x: GUTTER + 9 * CELL + 4, y: 4 } });
    const open = (await view.sent()).filter((m) => m.type === 'openMemory');
    assert.deepEqual(open, [{ type: 'openMemory', reference: 'mpa:0x9000', label: 'mpn 0x9' }]);
  });

  it('moves between frames with the arrow keys and opens one with Enter', async () => {
    view = await harness.open('memory');
    await view.post(message(shadowMap));
    const cols = await columns();
    await view.page.locator('canvas.map').focus();
    for (const k of ['ArrowRight', 'ArrowRight', 'ArrowDown', 'ArrowLeft']) await view.page.keyboard.press(k);
    await view.page.keyboard.press('Enter');
    const mpn = cols + 1;
    const open = (await view.sent()).filter((m) => m.type === 'openMemory');
    assert.deepEqual(open, [{ type: 'openMemory', reference: `mpa:0x${(mpn * 4096).toString(16)}`, label: `mpn 0x${mpn.toString(16)}` }]);
    assert.match(await text('.sr-only'), new RegExp(`mpn 0x${mpn.toString(16)} `), 'the selection is announced');
    assert.equal(((await view.state()) as { selectedMpn: number }).selectedMpn, mpn, 'the selection survives a reload');
  });

  it('asks only for the frames around the visible rows', async () => {
    view = await harness.open('memory', 'dark', { width: 1000, height: 600 });
    await view.post(message(shadowMap, 1, 0, 64));
    await view.waitFor("window.__sent.some((m) => m.type === 'viewport')", 5000);
    const vp = (await view.sent()).filter((m) => m.type === 'viewport').at(-1) as unknown as { fromMpn: number; toMpn: number };
    const cols = await columns();
    assert.equal(vp.fromMpn, 0);
    assert.ok(vp.toMpn > 64 && vp.toMpn < 32768 / 2, `a few screens of rows, not the whole memory (${vp.toMpn})`);
    assert.equal(vp.toMpn % cols, 0, 'whole rows');
  });

  it('outlines frames whose owner or use changed since the previous stop', async () => {
    view = await harness.open('memory');
    await view.post(message(shadowMap, 1));
    const next: FrameMapWire = JSON.parse(JSON.stringify(shadowMap));
    // The run at mpn 12 (four guest-data frames) becomes shadow page tables.
    const run = next.runs.find((r) => r.mpn === 12);
    assert.equal(run?.count, 4);
    run.use = 'shadow-pt';
    await view.post(message(next, 2));
    assert.match(await text('.summary'), /4 changed since stop 1/);
    await view.page.locator('canvas.map').hover({ position: { x: GUTTER + 13 * CELL + 4, y: 4 } });
    assert.match(await text('.tooltip'), /use: shadow page table run 0xc–0xf \(4 frames\) changed since stop 1/);
  });

  it('shows owner names as text', async () => {
    view = await harness.open('memory');
    const evil = '<img src=x onerror="document.body.dataset.pwned=1">';
    const map: FrameMapWire = JSON.parse(JSON.stringify(shadowMap).replaceAll('"vm1"', JSON.stringify(evil)));
    await view.post(message(map));
    assert.equal(await view.page.locator('img').count(), 0);
    assert.ok((await text('table.legend')).includes(evil));
    await view.page.locator('canvas.map').hover({ position: { x: GUTTER + 2 * CELL + 4, y: 4 } });
    assert.ok((await text('.tooltip')).includes(`owner: ${evil}`));
  });

  it('says so in native mode and without a session', async () => {
    view = await harness.open('memory');
    await view.post(message(native));
    assert.match(await text('.placeholder'), /Native mode: no hypervisor/);
    await view.post({ type: 'phase', phase: 'none' });
    assert.match(await text('.placeholder'), /No vmem debug session/);
  });

  for (const theme of ['light', 'dark', 'hc'] as const) {
    it(`renders two VMs in the ${theme} theme, by use and by owner (screenshots)`, async () => {
      view = await harness.open('memory', theme, { width: 1000, height: 700 });
      await view.post(message(twoVms));
      await view.page.locator('canvas.map').hover({ position: { x: GUTTER + 15 * CELL + 4, y: 4 } });
      await harness.screenshot(view, `memory-use-${theme}`);
      await view.page.locator('button[aria-pressed="false"]').click();
      assert.equal(((await view.state()) as { colourBy: string }).colourBy, 'owner');
      await harness.screenshot(view, `memory-owner-${theme}`);
    });
  }
});
