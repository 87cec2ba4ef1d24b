// The balloon's accounting under the memory scheduler: the target is machine frames to free, and
// only a page that had a frame of its own when it was ballooned counts toward it (a page the
// guest never touched, one the VMM had swapped, or a shared one frees none). The driver reads
// the target plus the pages it holds that freed nothing, so it keeps inflating until the frames
// are really free. A stand-alone schedule ('pages', virtio's num_pages) counts pages.
import { strict as assert } from 'node:assert';
import { BalloonDevice } from '../../../../src/engine/memory/overcommit/balloon/balloonDevice';
import { BalloonDriver, BalloonPort } from '../../../../src/engine/memory/overcommit/balloon/balloonPorts';
import type { PageState } from '../../../../src/engine/vmm/p2m';
import { PhysicalMemory } from '../../../../src/engine/memory/physicalMemory';
import { EventBus } from '../../../../src/engine/events';
import { rng } from '../../../support/rng';

const PAGES = 256;
const LIST = 0x10000;

function setup(states: Map<number, PageState>, accounting: 'pages' | 'frames', cap = PAGES) {
  const mem = new PhysicalMemory(PAGES * 4096);
  const dev = new BalloonDevice({
    guestPages: PAGES, memory: mem, bus: new EventBus(), now: () => 0, stamp: () => ({ icount: 0, rip: 0n }),
    vmm: {
      stateOf: (ppn) => states.get(ppn) ?? 'unbacked',
      balloon: (ppn) => (states.set(ppn, 'ballooned'), true),
      deflate: (ppn) => void states.set(ppn, 'unbacked'),
    },
  });
  dev.accounting = accounting;
  dev.out(0, BalloonPort.LIMIT, 4, cap);
  dev.out(0, BalloonPort.DRIVER, 4, BalloonDriver.LOADED);
  const send = (port: number, ppns: number[]): void => {
    ppns.forEach((p, i) => mem.writeU(LIST + 4 * i, 4, p));
    dev.out(0, BalloonPort.LIST, 4, LIST);
    dev.out(0, port, 4, ppns.length);
  };
  return { dev, send };
}

describe('balloon accounting: frames freed, not pages held', () => {
  // Pages 0–9 private, 10–14 swapped, 15–19 shared, the rest never touched.
  const before = (): Map<number, PageState> => {
    const m = new Map<number, PageState>();
    for (let p = 0; p < 10; p++) m.set(p, 'private');
    for (let p = 10; p < 15; p++) m.set(p, 'swapped');
    for (let p = 15; p < 20; p++) m.set(p, 'shared');
    return m;
  };
  // [what the driver inflates, accounting, host target → size, actual, held without a frame, TARGET the driver reads, shortfall]
  const table: [string, number[], 'pages' | 'frames', number, number, number, number, number, number][] = [
    ['4 private pages', [0, 1, 2, 3], 'frames', 4, 4, 4, 0, 4, 0],
    ['4 never-touched pages', [100, 101, 102, 103], 'frames', 4, 4, 0, 4, 8, 0],
    ['2 private, 2 swapped, 2 shared, 2 never touched', [4, 5, 10, 11, 15, 16, 200, 201], 'frames', 6, 8, 2, 6, 12, 0],
    ['the same under page accounting', [4, 5, 10, 11, 15, 16, 200, 201], 'pages', 6, 8, 8, 0, 6, 0],
    ['never-touched pages under page accounting', [100, 101, 102, 103], 'pages', 4, 4, 4, 0, 4, 0],
  ];
  for (const [name, ppns, accounting, target, size, actual, without, driverTarget, shortfall] of table) {
    it(`${accounting}: ${name}`, () => {
      const { dev, send } = setup(before(), accounting);
      dev.target = target;
      send(BalloonPort.INFLATE_LIST, ppns);
      assert.equal(dev.size, size);
      assert.equal(dev.actual, actual);
      assert.equal(dev.heldWithoutFrame, without);
      assert.equal(dev.in(0, BalloonPort.TARGET, 4), driverTarget);
      assert.equal(dev.in(0, BalloonPort.ACTUAL, 4), size, 'the driver\'s own count is pages');
      assert.equal(dev.shortfall, shortfall);
      assert.equal(dev.counters.withoutFrame, ppns.filter((p) => before().get(p) !== 'private').length);
    });
  }

  it('deflating a page counts it out by what it freed; a pop forgets both counts', () => {
    const { dev, send } = setup(before(), 'frames');
    send(BalloonPort.INFLATE_LIST, [0, 1, 100, 101]);
    assert.deepEqual([dev.size, dev.actual], [4, 2]);
    send(BalloonPort.DEFLATE_LIST, [101, 1]);
    assert.deepEqual([dev.size, dev.actual, dev.framesFreed], [2, 1, 1]);
    dev.pop(0);
    assert.deepEqual([dev.size, dev.actual, dev.heldWithoutFrame], [0, 0, 0]);
  });

  it('the guest\'s cap counts every held page: frames reachable under it shrink by the pages that freed none', () => {
    const { dev, send } = setup(before(), 'frames', 10);
    send(BalloonPort.INFLATE_LIST, [100, 101, 102, 103]); // 4 held, none freed a frame
    dev.target = 8;
    assert.equal(dev.shortfall, 2, 'the cap leaves room for 6 more pages: 8 − 6 frames unreachable');
  });

  it('generated: a driver that inflates to what it reads ends with exactly the target in frames freed (or the cap)', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const r = rng(seed);
      const states = new Map<number, PageState>();
      for (let p = 0; p < PAGES; p++) {
        const k = r.int(4);
        states.set(p, k === 0 ? 'unbacked' : k === 1 ? 'swapped' : 'private');
      }
      const { dev, send } = setup(states, 'frames');
      const target = 1 + r.int(100);
      dev.target = target;
      // The guest's allocator hands out pages in some order the driver cannot judge; it polls
      // until TARGET says it holds enough.
      const order = Array.from({ length: PAGES }, (_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = r.int(i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      let next = 0;
      for (let poll = 0; poll < 50 && dev.size < dev.in(0, BalloonPort.TARGET, 4); poll++) {
        const want = dev.in(0, BalloonPort.TARGET, 4) - dev.size;
        send(BalloonPort.INFLATE_LIST, order.slice(next, next + want));
        next += want;
      }
      const privates = [...states.values()].filter((s) => s === 'private').length + dev.actual;
      assert.equal(dev.actual, Math.min(target, privates), `seed ${seed}`);
    }
  });
});
