// The Machine Memory webview in Chromium with memory overcommitment: a real machine with guest
// pages in every p2m state (test/debugAdapter/inspect/frameMapMachine.ts) encoded by the adapter's
// own payload builder. Checked: the colour of shared frames and of each page state (read back from
// the canvas and compared with the theme colour the CSS names), the legend's words and counts,
// hover text per state, opening pages, the window pager, changes between stops, screenshots.
import * as assert from 'node:assert/strict';
import { browserSuite } from './harness';
import type { OpenedView } from './harness';
import type { FrameMapWire } from '../../src/debugAdapter/viewsProtocol';
import type { FrameMapMessage } from '../../src/webview/shared/messages';
import { frameMapPayload } from '../../src/debugAdapter/inspect/views';
import { statesMachine } from '../debugAdapter/inspect/frameMapMachine';

// Geometry (src/webview/memory/main.ts, guestStrips.ts): map cells of 11 px after a 78 px gutter; strip cells of 7 px.
const CELL = 11;
const GUTTER = 78;
const STRIP = 7;

function message(map: FrameMapWire, stopCount = 1, fromPpn = 0, toPpn = 1024): FrameMapMessage {
  return { type: 'frameMap', stop: { stopCount, vm: 1, vcpu: 0, thread: 'vm1/vcpu0', reason: 'step' }, fromMpn: 0, toMpn: map.total, fromPpn, toPpn, map };
}

describe('webview: Machine Memory with shared, ballooned and swapped memory (Chromium)', function () {
  this.timeout(60_000);
  const harness = browserSuite('FAILED-memory-states-');
  const text = harness.text;
  let view: OpenedView;

  /** A CSS colour (a custom property) as the page resolves it: rgb(r, g, b). */
  const cssColour = (cssVar: string): Promise<string> => view.page.evaluate<string>(`(() => { const s = document.createElement('span'); document.body.append(s); s.style.color = 'var(${cssVar})'; const c = getComputedStyle(s).color; s.remove(); return c; })()`);
  /** The pixel at (x, y) CSS px of the canvas matching `selector`, as rgb(r, g, b). */
  const pixel = (selector: string, x: number, y: number): Promise<string> => view.page.evaluate<string>(`(() => { const c = document.querySelector(${JSON.stringify(selector)}); const d = window.devicePixelRatio || 1; const p = c.getContext('2d').getImageData(Math.floor(${x} * d), Math.floor(${y} * d), 1, 1).data; return 'rgb(' + p[0] + ', ' + p[1] + ', ' + p[2] + ')'; })()`);
  const strip = (vm: number): string => `canvas.strip[data-vm="${vm}"]`;
  /** Pages per strip row, as guestStrips.ts fits them: a power of two, at most 512. */
  const stripColumns = (): Promise<number> => view.page.evaluate<number>(`(() => { const fit = Math.floor(document.querySelector('.strips').clientWidth / ${STRIP}); let c = 1; while (c * 2 <= fit && c < 512) c *= 2; return c; })()`);
  const stripPos = async (_vm: number, ppn: number, from = 0): Promise<{ x: number; y: number }> => {
    const cols = await stripColumns();
    const i = ppn - from;
    return { x: (i % cols) * STRIP + 3, y: Math.floor(i / cols) * STRIP + 3 };
  };
  const hoverPage = async (vm: number, ppn: number, from = 0): Promise<(string | null)[]> => {
    await view.page.locator(strip(vm)).hover({ position: await stripPos(vm, ppn, from) });
    return view.all('.tooltip div', 'text');
  };

  it('colours a shared frame on the map (with a hollow centre) and tells its references on hover', async () => {
    const m = statesMachine();
    const map = frameMapPayload(m.target);
    view = await harness.open('memory', 'dark', { width: 1000, height: 900 });
    await view.post(message(map));
    const cols = await view.page.evaluate<number>(`document.querySelector('canvas.map').clientWidth`).then((w) => {
      let c = 1;
      while (c * 2 <= Math.floor((w - GUTTER) / CELL) && c < 512) c *= 2;
      return c;
    });
    const at = (mpn: number): { x: number; y: number } => ({ x: GUTTER + (mpn % cols) * CELL, y: Math.floor(mpn / cols) * CELL });
    const s = at(m.sharedMpn);
    assert.equal(await pixel('canvas.map', s.x + 1, s.y + 1), await cssColour('--vmem-use-shared'), 'the shared colour at the edge');
    assert.equal(await pixel('canvas.map', s.x + 5, s.y + 5), await cssColour('--vmem-unloaded'), 'the hollow centre');
    assert.notEqual(await cssColour('--vmem-use-shared'), await cssColour('--vmem-use-guest-data'));
    await view.page.locator('canvas.map').hover({ position: { x: s.x + 4, y: s.y + 4 } });
    const tip = await view.all('.tooltip div', 'text');
    assert.deepEqual(tip.slice(1, 4), ['owner: hypervisor', 'use: shared (copy-on-write)', 'references: 3 — shared by 3 guest pages']);
    const z = at(m.zeroMpn);
    await view.page.locator('canvas.map').hover({ position: { x: z.x + 4, y: z.y + 4 } });
    assert.ok((await view.all('.tooltip div', 'text')).includes('references: 1 — shared by 1 guest page'));
    // The census: the shared frames are the hypervisor's, under a column named in words.
    const heads = (await view.all('table.legend:not(.guest-legend) thead th', 'text')).map((x) => String(x).trim());
    assert.ok(heads.includes('shared (copy-on-write)'), heads.join(' | '));
  });

  it('names the page states in words, with each VM\'s counts, and the swatches are the strips\' colours', async () => {
    const m = statesMachine();
    view = await harness.open('memory', 'light', { width: 1000, height: 900 });
    await view.post(message(frameMapPayload(m.target)));
    const heads = (await view.all('table.guest-legend thead th', 'text')).map((x) => String(x).trim());
    assert.deepEqual(heads, ['VM', 'private (its own machine frame)', 'shared (copy-on-write frame)', 'ballooned (given to the balloon: no frame)', 'swapped (in the swap file: no frame)', 'unbacked (no frame yet: reads as zeros)', 'pages']);
    const rows: string[] = [];
    for (let i = 0; i < 2; i++) rows.push((await view.page.locator('table.guest-legend tbody tr').nth(i).innerText()).replace(/\s+/g, ' ').trim());
    assert.deepEqual(rows, ['alpha 4 2 2 2 54 64', 'beta 2 2 1 1 58 64']);
    for (const state of ['private', 'ballooned', 'swapped', 'unbacked']) {
      const swatch = await view.page.evaluate<string>(`getComputedStyle(document.querySelector('.swatch.page-${state}')).backgroundColor`);
      assert.equal(swatch, await cssColour(`--vmem-page-${state}`), state);
    }
    assert.match(await text('.guest-range'), /^ppn 0x0–0x3f of 0x3f$/);
    assert.equal(await view.page.locator('.guest-head button').first().getAttribute('disabled'), '', 'one window holds every page: no previous');
  });

  // [vm, ppn, state, the hover lines after the first] — every state, both VMs.
  const pages: [number, number, string, (m: ReturnType<typeof statesMachine>) => string[]][] = [
    [1, 2, 'private', () => ['state: private (its own machine frame)', 'run 0x0–0x3 (4 pages)', 'click: open the page in the memory view']],
    [1, 5, 'shared', (m) => ['state: shared (copy-on-write frame)', `machine frame: mpn 0x${m.sharedMpn.toString(16)} · 3 references (shared by 3 guest pages)`, 'run 0x4–0x5 (2 pages)', 'click: open the page in the memory view']],
    [2, 5, 'shared', (m) => ['state: shared (copy-on-write frame)', `machine frame: mpn 0x${m.zeroMpn.toString(16)} · 1 reference (shared by 1 guest page)`, 'run 0x4–0x5 (2 pages)', 'click: open the page in the memory view']],
    [1, 7, 'swapped', (m) => ['state: swapped (in the swap file: no frame)', `swap slot ${m.alpha.p2m.slotOf(7)} of alpha.vswp`, 'run 0x6–0x7 (2 pages)']],
    [2, 2, 'swapped', (m) => ['state: swapped (in the swap file: no frame)', `swap slot ${m.beta.p2m.slotOf(2)} of beta.vswp`, 'a run of 1 page']],
    [1, 8, 'ballooned', () => ['state: ballooned (given to the balloon: no frame)', 'run 0x8–0x9 (2 pages)']],
    [2, 3, 'ballooned', () => ['state: ballooned (given to the balloon: no frame)', 'a run of 1 page']],
    [1, 40, 'unbacked', () => ['state: unbacked (no frame yet: reads as zeros)', 'run 0xa–0x3f (54 pages)']],
  ];
  for (const [vm, ppn, state, lines] of pages) {
    it(`vm${vm} ppn ${ppn}: ${state} — its colour on the strip and its hover text`, async () => {
      const m = statesMachine();
      view = await harness.open('memory', 'dark', { width: 1000, height: 900 });
      await view.post(message(frameMapPayload(m.target)));
      const name = vm === 1 ? 'alpha' : 'beta';
      // Read before hovering: the hover outline is drawn over the cell.
      const p = await stripPos(vm, ppn);
      assert.equal(await pixel(strip(vm), p.x - 3, p.y - 3), await cssColour(`--vmem-page-${state}`), 'the cell\'s corner');
      assert.equal(await pixel(strip(vm), p.x, p.y), await cssColour(state === 'shared' ? '--vmem-unloaded' : `--vmem-page-${state}`), 'the centre: hollow only when shared');
      const tip = await hoverPage(vm, ppn);
      assert.deepEqual(tip, [`${name} · ppn 0x${ppn.toString(16)} · gpa 0x${(ppn * 4096).toString(16)}`, ...lines(m)]);
    });
  }

  it('the five states have five different colours in every theme', async () => {
    for (const theme of ['light', 'dark', 'hc'] as const) {
      view = await harness.open('memory', theme);
      await view.post(message(frameMapPayload(statesMachine().target)));
      const seen = new Set<string>();
      for (const s of ['private', 'shared', 'ballooned', 'swapped', 'unbacked']) seen.add(await cssColour(`--vmem-page-${s}`));
      seen.add(await cssColour('--vmem-unloaded'));
      assert.equal(seen.size, 6, `${theme}: states and the background all differ`);
      if (theme !== 'hc') await view.page.close();
    }
  });

  it('opens a page with a frame (click, or arrows and Enter) and never a swapped or ballooned one', async () => {
    const m = statesMachine();
    view = await harness.open('memory', 'dark', { width: 1000, height: 900 });
    await view.post(message(frameMapPayload(m.target)));
    await view.page.locator(strip(1)).click({ position: await stripPos(1, 6) });
    await view.page.locator(strip(1)).click({ position: await stripPos(1, 9) });
    await view.page.locator(strip(2)).click({ position: await stripPos(2, 1) });
    await view.page.locator(strip(1)).focus();
    for (const k of ['ArrowLeft', 'ArrowLeft', 'ArrowLeft', 'ArrowLeft', 'Enter']) await view.page.keyboard.press(k);
    const open = (await view.sent()).filter((x) => x.type === 'openMemory');
    assert.deepEqual(open, [
      { type: 'openMemory', reference: 'gpa:2:0x1000', label: 'beta ppn 0x1' },
      { type: 'openMemory', reference: 'gpa:1:0x5000', label: 'alpha ppn 0x5' },
    ]);
    assert.match(await text('.sr-only'), /^alpha · ppn 0x5 · gpa 0x5000, state: shared/, 'the selection is announced');
  });

  it('pages through a larger guest: asks for the next window, shows it loading, then draws it', async () => {
    const m = statesMachine('shadow', 4096);
    view = await harness.open('memory', 'dark', { width: 1000, height: 900 });
    await view.post(message(frameMapPayload(m.target, { fromPpn: 0, toPpn: 1024 })));
    const size = (await stripColumns()) * 8;
    assert.equal(((await view.page.locator(strip(1)).boundingBox())?.width ?? 0) / STRIP, size / 8, 'full rows span the strip');
    assert.ok(size >= 256, `a window of ${size} pages`);
    const first = (await view.sent()).filter((x) => x.type === 'guestWindow');
    assert.deepEqual(first, size === 1024 ? [] : [{ type: 'guestWindow', fromPpn: 0, toPpn: size }], 'asks again only when its window differs from the answer');
    await view.page.locator('.guest-head button').nth(1).click();
    const asked = (await view.sent()).filter((x) => x.type === 'guestWindow').at(-1);
    assert.deepEqual(asked, { type: 'guestWindow', fromPpn: size, toPpn: 2 * size });
    assert.equal(await text('.guest-range'), `ppn 0x${size.toString(16)}–0x${(2 * size - 1).toString(16)} of 0xfff`);
    assert.equal(((await view.state()) as { fromPpn: number }).fromPpn, size, 'the window survives a reload');
    assert.deepEqual((await hoverPage(1, size + 3, size)).slice(1), ['loading…']);
    await view.post(message(frameMapPayload(m.target, { fromPpn: size, toPpn: 2 * size }), 1, size, 2 * size));
    assert.deepEqual((await hoverPage(1, size + 3, size)).slice(1), ['state: unbacked (no frame yet: reads as zeros)', `run 0x${size.toString(16)}–0x${(2 * size - 1).toString(16)} (${size.toLocaleString('en-US')} pages)`]);
  });

  it('outlines pages whose state changed since the previous stop', async () => {
    const m = statesMachine();
    view = await harness.open('memory', 'dark', { width: 1000, height: 900 });
    await view.post(message(frameMapPayload(m.target), 1));
    assert.ok(m.alpha.p2m.swapOut(1), m.alpha.p2m.lastRefusal);
    m.alpha.p2m.deflate(8);
    await view.post(message(frameMapPayload(m.target), 2));
    assert.match(await text('.strip-row'), /^alpha · ppn 0x0–0x3f · 2 changed since stop 1$/);
    const tip = await hoverPage(1, 1);
    assert.deepEqual(tip.slice(1, 3), ['state: swapped (in the swap file: no frame)', `swap slot ${m.alpha.p2m.slotOf(1)} of alpha.vswp`]);
    assert.equal(tip.at(-1), 'changed since stop 1');
    assert.match((await view.page.locator('.strip-row').nth(1).innerText()).trim(), /^beta · ppn 0x0–0x3f$/, 'nothing changed in beta');
  });

  it('hides the strips in native mode and without a session', async () => {
    view = await harness.open('memory');
    await view.post(message(frameMapPayload(statesMachine().target)));
    const hidden = (): Promise<boolean> => view.page.evaluate<boolean>(`document.querySelector('section.guest').hidden`);
    assert.equal(await hidden(), false);
    await view.post({ type: 'phase', phase: 'none' });
    assert.equal(await hidden(), true);
    await view.post(message(frameMapPayload(statesMachine().target)));
    assert.equal(await hidden(), false);
    const native: FrameMapWire = { native: true, total: 256, touched: 3, runs: [], owners: {} };
    await view.post(message(native));
    assert.equal(await hidden(), true);
  });

  for (const theme of ['light', 'dark', 'hc'] as const) {
    it(`renders every state in the ${theme} theme (screenshot)`, async () => {
      view = await harness.open('memory', theme, { width: 1000, height: 800 });
      const m = statesMachine();
      await view.post(message(frameMapPayload(m.target)));
      await view.page.locator(strip(2)).focus();
      await view.page.keyboard.press('ArrowRight');
      await view.page.locator('canvas.map').hover({ position: { x: GUTTER + m.sharedMpn * CELL + 4, y: 4 } });
      assert.match(await text('.tooltip'), /shared by 3 guest pages/);
      await harness.screenshot(view, `memory-states-${theme}`);
    });
  }
});
