// The Machine Memory view models for overcommitment (node): shared frames' hover text, the guest
// strips' run look-up, hover text per state, the pager's window and the pages changed between
// stops — on payloads the adapter built from a real machine (frameMapMachine.ts).
import { strict as assert } from 'node:assert';
import { frameMapPayload } from '../../src/debugAdapter/inspect/views';
import { FrameIndex, describeFrame, legend } from '../../src/webview/memory/model';
import { GuestIndex, STATES, STATE_LABELS, changedPages, describePage, openable, pageWindow } from '../../src/webview/memory/guestModel';
import { statesMachine } from '../debugAdapter/inspect/frameMapMachine';

describe('webview models: Machine Memory with page states', () => {
  it('a shared frame\'s hover says how many guest pages share it; other frames say nothing of references', () => {
    const m = statesMachine();
    const map = frameMapPayload(m.target);
    const idx = new FrameIndex(map.runs, 0, map.total);
    assert.ok(describeFrame(m.sharedMpn, idx.runAt(m.sharedMpn), true).includes('references: 3 — shared by 3 guest pages'));
    assert.ok(describeFrame(m.zeroMpn, idx.runAt(m.zeroMpn), true).includes('references: 1 — shared by 1 guest page'));
    const privateMpn = m.alpha.p2m.lookup(0);
    assert.ok(!describeFrame(privateMpn, idx.runAt(privateMpn), true).some((l) => l.startsWith('references')));
    assert.deepEqual(legend(map).uses.map((u) => u.use), ['guest-data', 'vmm', 'shared', 'free'], 'shared in palette order, before free');
  });

  it('finds every page\'s run and describes it; every page of the window is covered once', () => {
    const m = statesMachine();
    for (const g of frameMapPayload(m.target, { fromPpn: 2, toPpn: 40 }).guest ?? []) {
      const idx = new GuestIndex(g);
      assert.equal(idx.runAt(1), undefined, 'before the window: not loaded');
      assert.deepEqual(describePage(g, 1, idx.runAt(1)).slice(1), ['loading…']);
      assert.deepEqual(describePage(g, 64, undefined).slice(1), [`outside ${g.name}'s memory (64 pages)`]);
      const p2m = g.name === 'alpha' ? m.alpha.p2m : m.beta.p2m;
      for (let ppn = 2; ppn < 40; ppn++) {
        const run = idx.runAt(ppn);
        assert.equal(run?.state, p2m.stateOf(ppn));
        const lines = describePage(g, ppn, run);
        assert.equal(lines[1], `state: ${STATE_LABELS[p2m.stateOf(ppn)]}`);
        assert.equal(lines.some((l) => l.startsWith('swap slot')), p2m.stateOf(ppn) === 'swapped');
        assert.equal(lines.some((l) => l.startsWith('machine frame')), p2m.stateOf(ppn) === 'shared');
        assert.equal(openable(run), p2m.lookup(ppn) >= 0, 'only pages with a frame open (a read of a swapped page would swap it in)');
      }
    }
  });

  it('names every state, in the legend\'s order', () => {
    assert.deepEqual(STATES, ['private', 'shared', 'ballooned', 'swapped', 'unbacked']);
    for (const s of STATES) assert.match(STATE_LABELS[s], new RegExp(`^${s} \\(.+\\)$`));
  });

  const windows: [number, number, number, { from: number; to: number }][] = [
    [0, 1024, 64, { from: 0, to: 1024 }],
    [1500, 1024, 4096, { from: 1024, to: 2048 }],
    [99999, 1024, 4096, { from: 3072, to: 4096 }],
    [-5, 512, 4096, { from: 0, to: 512 }],
    [3000, 256, 1000, { from: 768, to: 1024 }],
    [0, 0, 10, { from: 0, to: 1 }],
  ];
  for (const [from, size, pages, want] of windows) {
    it(`a window from ${from} of ${size} pages in a guest of ${pages} is ${want.from}–${want.to}`, () => assert.deepEqual(pageWindow(from, size, pages), want));
  }

  it('pages changed between stops: only where both stops loaded them', () => {
    const m = statesMachine();
    const before = new GuestIndex(frameMapPayload(m.target, { fromPpn: 0, toPpn: 12 }).guest![0]);
    assert.ok(m.alpha.p2m.swapOut(0));
    m.alpha.p2m.deflate(9);
    m.alpha.p2m.back(20);
    const after = new GuestIndex(frameMapPayload(m.target, { fromPpn: 0, toPpn: 64 }).guest![0]);
    assert.deepEqual([...changedPages(before, after, 0, 64)], [0, 9], 'ppn 20 changed too, but the earlier stop did not load it');
  });
});
