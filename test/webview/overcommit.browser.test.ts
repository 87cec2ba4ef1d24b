// The Memory Overcommit webview in Chromium, fed a three-VM answer with 20 rebalances: the header,
// every table value, the charts' series (one polyline point per sample, the extremes at the plot's
// top and bottom, ρ = ∞ as a gap with a mark), hover and keyboard read-outs, the legend toggles,
// the `enabled: false` message, escaping, and screenshots in three themes.
import * as assert from 'node:assert/strict';
import { browserSuite } from './harness';
import type { OpenedView } from './harness';
import { OVERCOMMIT_NAMES, overcommitFixture } from './overcommitFixture';
import type { OvercommitMessage } from '../../src/webview/shared/messages';
import { count } from '../../src/webview/shared/format';
import { runOvercommitted } from './overcommitMachine';
import { createInspectTarget } from '../../src/debugAdapter/inspect/target';
import { overcommitPayload } from '../../src/debugAdapter/inspect/overcommit';
import type { OvercommitResponseWire, OvercommitWire } from '../../src/debugAdapter/viewsProtocol';

const data = overcommitFixture();

function message(body: OvercommitResponseWire = data, stop = true): OvercommitMessage {
  return { type: 'overcommit', body, stop: stop ? { stopCount: 3, vm: 1, vcpu: 0, thread: 'web/vcpu0', reason: 'exception', description: 'Balloon inflate' } : undefined };
}

/** Parses a polyline's points attribute. */
function points(attr: string | null): [number, number][] {
  return String(attr).trim().split(/\s+/).map((p) => p.split(',').map(Number) as [number, number]);
}

describe('webview: Memory Overcommit (Chromium)', function () {
  this.timeout(60_000);
  const harness = browserSuite('FAILED-overcommit-');
  const text = harness.text;
  let view: OpenedView;

  it('heads the panel with the simulated time, the state and free memory against the thresholds', async () => {
    view = await harness.open('overcommit');
    await view.post(message());
    const head = await text('.summary .headline');
    assert.match(head, /^300\.50 s simulated · HIGH · /, "the badge is upper-cased by CSS");
    const free = data.freePages;
    assert.ok(head.includes(`${+((100 * free) / data.totalPages).toFixed(2)} % free (${count(free)} of 16,384 machine pages)`), head);
    assert.match(head, /web\/vcpu0, stop 3/);
    assert.equal(await view.page.locator('.state-badge.state-high').count(), 1);
    assert.equal(await text('.thresholds'), 'enters soft below 4 %, hard below 2 %, low below 1 % free; back to high only well above 6 %');
    assert.match(await text('.policy'), /^policy idle-tax · τ 0\.75 · swap victims random · 20 rebalances$/);
    assert.match(await text('.sharing'), /420 shared frames, 1,090 pages sharing, 800 zero pages, 1,060 pages saved/);
    assert.match(await text('.swap'), /4,160 pages out in 180 writes/);
    // The gauge: four bands and the marker.
    assert.equal(await view.page.locator('svg.gauge rect.band').count(), 4);
    assert.equal(await view.page.locator('svg.gauge .free-marker').count(), 1);
  });

  it('lists every VM with its configuration, pages by state, target, balloon, working set, ρ, blocking and stalls', async () => {
    view = await harness.open('overcommit');
    await view.post(message());
    const cell = (vm: number, col: string): Promise<string> => text(`tr[data-vm="${vm}"] [data-col="${col}"]`);
    const want: Record<number, Record<string, string>> = {
      1: { name: 'web', min: '2,048', max: '8,192', shares: '2,000', private: '7,300', shared: '310', ballooned: '0', swapped: '0', target: '7,300', balloon: '0 / 0', balloonCap: '5,324', balloonWhy: '—', workingSet: '95 % ≈ 6,935', blocked: 'no', stall: '1,250,000' },
      2: { name: 'idle', private: '2,400', shared: '1,200', ballooned: '2,800', balloon: '2,800 / 2,800', balloonCap: '2,800', balloonWhy: 'the guest capped its balloon at 2,800 pages (35 % of its memory)', workingSet: '10 % ≈ 240' },
      3: { name: 'legacy', min: '0', max: '4,096', swapped: '1,700', balloon: 'no balloon', balloonCap: '—', balloonWhy: 'no balloon device', stall: '96,000,000' },
    };
    for (const [vm, cols] of Object.entries(want)) for (const [col, v] of Object.entries(cols)) assert.equal(await cell(Number(vm), col), v, `vm ${vm} ${col}`);
    // ρ = S / (P·(f + k(1−f))): web 2000 / (7300 · (0.95 + 4 · 0.05)) = 0.238.
    assert.equal(await cell(1, 'rho'), '0.238');
    assert.equal(await view.page.locator('tbody tr').count(), 3);
    assert.match(String(await view.page.locator('tr[data-vm="3"] [data-col="stall"]').getAttribute('title')), /throughput 40 % \(64,000,000 instructions\)/);
    assert.equal(await view.page.locator('tr[data-vm="2"] [data-col="balloonWhy"].warn').count(), 1);
  });

  it('draws one point per rebalance per series, the largest value at the top of the plot and zero on the axis', async () => {
    view = await harness.open('overcommit');
    await view.post(message());
    assert.equal(await view.page.locator('.vm-chart').count(), 3);
    for (const vm of [1, 2, 3]) {
      const chart = `.vm-chart[data-vm="${vm}"]`;
      const allocated = points(await view.page.locator(`${chart} [data-series="allocated"] polyline`).getAttribute('points'));
      assert.equal(allocated.length, 20, `${OVERCOMMIT_NAMES[vm]}: one point per sample`);
      const top = Number(await view.page.locator(`${chart} line.axis`).nth(1).getAttribute('y1'));
      const bottom = Number(await view.page.locator(`${chart} line.axis`).nth(1).getAttribute('y2'));
      // The y scale runs to the largest value of any series shown: that sample sits on the top edge.
      const samples = data.history.map((s) => s.vms.find((v) => v.vmId === vm)!);
      const max = Math.max(...samples.flatMap((v) => [v.allocated, v.target, v.balloonSize, Math.round(v.workingSet * v.allocated), v.swapped]));
      const series: [string, (v: (typeof samples)[number]) => number][] = [['allocated', (v) => v.allocated], ['target', (v) => v.target], ['balloon', (v) => v.balloonSize], ['swapped', (v) => v.swapped]];
      for (const [key, of] of series) {
        const ys = points(await view.page.locator(`${chart} [data-series="${key}"] polyline`).getAttribute('points')).map((p) => p[1]);
        samples.forEach((v, i) => assert.ok(Math.abs(ys[i] - (bottom - (of(v) / max) * (bottom - top))) < 0.11, `${OVERCOMMIT_NAMES[vm]} ${key}[${i}]`));
      }
      const all = (await Promise.all(['allocated', 'target', 'balloon', 'workingSet', 'swapped'].map(async (k) => points(await view.page.locator(`${chart} [data-series="${k}"] polyline`).getAttribute('points'))))).flat();
      assert.equal(Math.min(...all.map((p) => p[1])), top, `${OVERCOMMIT_NAMES[vm]}: the maximum touches the top`);
    }
    // Time runs left to right from the first rebalance to the last.
    const xs = points(await view.page.locator('.vm-chart[data-vm="1"] [data-series="target"] polyline').getAttribute('points')).map((p) => p[0]);
    assert.ok(xs.every((x, i) => i === 0 || x > xs[i - 1]));
  });

  it('breaks ρ where a VM held no pages and marks ∞ on top', async () => {
    view = await harness.open('overcommit');
    await view.post(message());
    const legacy = '.rho-chart [data-series="vm3"]';
    const segments = await view.all(`${legacy} polyline`, 'points');
    const infinite = data.history.filter((s) => s.vms[2].rho === null).length;
    assert.equal(infinite, 3);
    assert.equal(segments.length, 2, 'a gap where ρ is ∞');
    assert.equal(segments.reduce((n, s) => n + points(s).length, 0), 20 - infinite);
    assert.deepEqual(await view.all(`${legacy} text.infinite`, 'text'), ['∞', '∞', '∞']);
    assert.equal(points(await view.page.locator('.rho-chart [data-series="vm1"] polyline').getAttribute('points')).length, 20);
    // The highest ρ of any VM is at the top of the plot.
    const ys = (await view.all('.rho-chart polyline', 'points')).flatMap((p) => points(p).map((q) => q[1]));
    assert.equal(Math.min(...ys), 14);
  });

  it('draws free memory over the four state bands with the state strip', async () => {
    view = await harness.open('overcommit');
    await view.post(message());
    assert.deepEqual(await view.all('.free-chart rect.band', 'data-state'), ['low', 'hard', 'soft', 'high']);
    const strip = await view.all('.free-chart rect.strip', 'data-state');
    assert.deepEqual(strip, ['high', 'soft', 'hard', 'low', 'hard', 'soft', 'high'], 'one run per state change');
    const free = points(await view.page.locator('.free-chart [data-series="free"] polyline').getAttribute('points'));
    assert.equal(free.length, 20);
    // The lowest free memory (0.6 %) is inside the low band, the highest (12 %) at the top.
    const low = await view.page.locator('.free-chart rect.band[data-state="low"]').boundingBox();
    const svgBox = await view.page.locator('.free-chart svg').boundingBox();
    const minY = svgBox!.y + Math.max(...free.map((p) => p[1]));
    assert.ok(minY >= low!.y && minY <= low!.y + low!.height, `0.6 % lies in the low band (${minY} in ${low!.y}+${low!.height})`);
    assert.equal(Math.min(...free.map((p) => p[1])), 14);
  });

  it('reads a sample on hover and with the arrow keys', async () => {
    view = await harness.open('overcommit');
    await view.post(message());
    const chart = view.page.locator('.vm-chart[data-vm="2"]');
    const b = await chart.boundingBox();
    // The last sample is at the right edge of the plot.
    await view.page.mouse.move(b!.x + b!.width - 14, b!.y + 60);
    assert.equal(await chart.getAttribute('data-sample'), '19');
    const tip = (await view.all('.tooltip div', 'text')).join(' | ');
    assert.equal(tip, 'idle at 300.00 s (high, period rebalance) | allocated 2,400 · target 2,400 | balloon 2,800 (target 2,800) · swapped 0 · shared 1,200 | working set 10 % ≈ 240 pages · ρ 0.225');
    await chart.focus();
    await view.page.keyboard.press('Home');
    assert.equal(await chart.getAttribute('data-sample'), '0');
    await view.page.keyboard.press('ArrowRight');
    assert.match(await text('.sr-only'), /^idle at 30\.00 s \(high, period rebalance\); allocated 5,100 · target 8,192;/);
    const ft = view.page.locator('.free-chart');
    await ft.focus();
    await view.page.keyboard.press('End');
    assert.match(await text('.sr-only'), /^free at 300\.00 s: 9\.4 % \(1,540 pages\); state high/);
  });

  it('hides a series from the legend and remembers it', async () => {
    view = await harness.open('overcommit');
    await view.post(message());
    await view.page.locator('button.series-toggle[data-series="swapped"]').click();
    assert.equal(await view.page.locator('.vm-chart [data-series="swapped"]').count(), 0);
    assert.equal(await view.page.locator('button.series-toggle[data-series="swapped"]').getAttribute('aria-pressed'), 'false');
    assert.deepEqual(await view.state(), { hiddenSeries: ['swapped'] });
  });

  it('restores hidden series from the panel state', async () => {
    view = await harness.open('overcommit', 'dark', undefined, { hiddenSeries: ['target', 'balloon'] });
    await view.post(message());
    assert.equal(await view.page.locator('.vm-chart [data-series="target"]').count(), 0);
    assert.equal(await view.page.locator('.vm-chart [data-series="allocated"]').count(), 3);
  });

  it('says why there is nothing to show when the machine has no memory scheduler', async () => {
    view = await harness.open('overcommit');
    await view.post(message(data));
    const why = 'Native mode: the guest runs on the machine itself, with no hypervisor and so no memory scheduler.';
    await view.post(message({ enabled: false, why }));
    assert.equal(await text('.placeholder .disabled'), 'No memory overcommitment to show');
    assert.equal(await text('.placeholder .why'), why);
    assert.equal(await view.page.locator('table.vm-table').count(), 0, 'the previous picture is gone');
    assert.equal(await view.page.locator('.chart').count(), 0);
  });

  it('marks live updates while running, and says so with no session', async () => {
    view = await harness.open('overcommit');
    await view.post(message());
    await view.post({ type: 'phase', phase: 'running' });
    assert.match(await text('.banner'), /Running…/);
    assert.equal(await view.page.evaluate<boolean>("document.body.classList.contains('stale')"), true);
    await view.post(message(data, false));
    assert.match(await text('.banner'), /Running — updated live/);
    assert.equal(await view.page.evaluate<boolean>("document.body.classList.contains('stale')"), false);
    assert.doesNotMatch(await text('.summary .headline'), /stop 3/);
    await view.post({ type: 'phase', phase: 'none' });
    assert.match(await text('.placeholder'), /No vmem debug session/);
  });

  it('shows VM names and reasons as text', async () => {
    view = await harness.open('overcommit');
    const evil = '<img src=x onerror="document.body.dataset.pwned=1">';
    const body = overcommitFixture();
    body.vms[0].name = evil;
    body.vms[1].balloon!.whyNot = evil;
    await view.post(message(body));
    assert.equal(await view.page.locator('img').count(), 0);
    assert.equal(await text('tr[data-vm="1"] [data-col="name"]'), evil);
    assert.equal(await text('tr[data-vm="2"] [data-col="balloonWhy"]'), evil);
  });

  it('draws a scheduler that has not rebalanced yet: the table, no charts', async () => {
    view = await harness.open('overcommit');
    const body = overcommitFixture();
    body.history = [];
    body.rebalances = 0;
    for (const v of body.vms) v.target = null;
    await view.post(message(body));
    assert.equal(await text('tr[data-vm="1"] [data-col="target"]'), '—');
    assert.match(await text('.no-history'), /No rebalance yet/);
    assert.equal(await view.page.locator('.chart').count(), 0);
  });

  it('draws a real machine\'s scheduler: every VM, one point per rebalance (screenshot)', async () => {
    const { machine, vms } = runOvercommitted(2_000_000);
    const real = overcommitPayload(createInspectTarget(machine, vms.map((v) => ({ vm: v.vm, name: v.name })))) as OvercommitWire;
    view = await harness.open('overcommit', 'dark', { width: 1280, height: 900 });
    await view.post(message(real));
    assert.deepEqual(await view.all('tbody th[data-col="name"]', 'text'), ['busy', 'idle']);
    for (const v of real.vms) {
      assert.equal(await text(`tr[data-vm="${v.vmId}"] [data-col="private"]`), count(v.pages.private));
      assert.equal(await text(`tr[data-vm="${v.vmId}"] [data-col="swapped"]`), count(v.pages.swapped));
      const pts = (await view.all(`.vm-chart[data-vm="${v.vmId}"] [data-series="allocated"] polyline`, 'points')).reduce((n, p) => n + points(p).length, 0);
      assert.equal(pts, real.history.length);
    }
    await harness.screenshot(view, 'overcommit-real-machine');
  });

  for (const theme of ['light', 'dark', 'hc'] as const) {
    it(`renders in the ${theme} theme (screenshot)`, async () => {
      view = await harness.open('overcommit', theme, { width: 1280, height: 900 });
      await view.post(message());
      const chart = view.page.locator('.vm-chart[data-vm="3"]');
      const b = await chart.boundingBox();
      await view.page.mouse.move(b!.x + b!.width / 2, b!.y + 60);
      await harness.screenshot(view, `overcommit-${theme}`);
    });
  }
});
