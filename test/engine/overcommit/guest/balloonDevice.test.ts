// The balloon device's port interface against a fake VMM: every register, the batch limit, a
// batch that stops at the first refused page, the pop, and what the memory scheduler reads
// (canDeliver, shortfall) in each of the seeds' failure modes.
import { strict as assert } from 'node:assert';
import { BalloonDevice, STALLED_AFTER_S } from '../../../../src/engine/memory/overcommit/balloon/balloonDevice';
import type { BalloonOptions } from '../../../../src/engine/memory/overcommit/balloon/balloonDevice';
import { BALLOON_MAX_BATCH, BalloonDriver, BalloonPort, BalloonStatus } from '../../../../src/engine/memory/overcommit/balloon/balloonPorts';
import { PhysicalMemory } from '../../../../src/engine/memory/physicalMemory';
import { EventBus } from '../../../../src/engine/events';
import type { EventOf } from '../../../../src/engine/events';
import { Devices } from '../../../../src/engine/devices';

const PAGES = 1024;
const LIST = 0x10000;

function setup(options?: BalloonOptions, refuse: (ppn: number) => boolean = () => false) {
  const log: string[] = [];
  const mem = new PhysicalMemory(PAGES * 4096);
  const bus = new EventBus();
  const events: EventOf<'balloon'>[] = [];
  bus.on('balloon', (e) => events.push(e));
  const clock = { s: 0 };
  const dev = new BalloonDevice({
    guestPages: PAGES, memory: mem, bus, now: () => clock.s, stamp: () => ({ icount: 0, rip: 0n }), options,
    vmm: {
      balloon: (ppn) => (refuse(ppn) ? false : (log.push(`balloon ${ppn}`), true)),
      deflate: (ppn) => void log.push(`deflate ${ppn}`),
    },
  });
  const list = (ppns: number[]): void => {
    ppns.forEach((p, i) => mem.writeU(LIST + 4 * i, 4, p));
    dev.out(0, BalloonPort.LIST, 4, LIST);
  };
  const load = (limit = PAGES): void => {
    dev.out(0, BalloonPort.LIMIT, 4, limit);
    dev.out(0, BalloonPort.DRIVER, 4, BalloonDriver.LOADED);
  };
  return { dev, log, events, clock, list, load, mem };
}

describe('balloon device', () => {
  it('reads present and acknowledged at reset; write-only registers read as an empty bus', () => {
    const { dev } = setup();
    assert.equal(dev.in(0, BalloonPort.STATUS, 4), BalloonStatus.PRESENT | BalloonStatus.ACK);
    for (const p of [BalloonPort.INFLATE, BalloonPort.DEFLATE, BalloonPort.LIST, BalloonPort.DRIVER, BalloonPort.LIMIT]) {
      assert.equal(dev.in(0, p, 4), 0xffffffff, `port 0x${p.toString(16)}`);
      assert.equal(dev.in(0, p, 1), 0xff);
    }
  });

  // Table: a sequence of single-page requests → the size, RESULT and status after each.
  const singles: { name: string; ops: [number, number][]; size: number; result: number; ok: boolean; log: string[] }[] = [
    { name: 'inflate one', ops: [[BalloonPort.INFLATE, 5]], size: 1, result: 1, ok: true, log: ['balloon 5'] },
    { name: 'inflate twice the same page', ops: [[BalloonPort.INFLATE, 5], [BalloonPort.INFLATE, 5]], size: 1, result: 0, ok: false, log: ['balloon 5'] },
    { name: 'inflate a page beyond guest memory', ops: [[BalloonPort.INFLATE, PAGES]], size: 0, result: 0, ok: false, log: [] },
    { name: 'deflate a page not in the balloon', ops: [[BalloonPort.DEFLATE, 7]], size: 0, result: 0, ok: false, log: [] },
    { name: 'inflate then deflate', ops: [[BalloonPort.INFLATE, 7], [BalloonPort.DEFLATE, 7]], size: 0, result: 1, ok: true, log: ['balloon 7', 'deflate 7'] },
    { name: 'an error clears on the next good request', ops: [[BalloonPort.DEFLATE, 1], [BalloonPort.INFLATE, 1]], size: 1, result: 1, ok: true, log: ['balloon 1'] },
  ];
  for (const t of singles) {
    it(`single pages: ${t.name}`, () => {
      const { dev, log } = setup();
      for (const [port, v] of t.ops) dev.out(0, port, 4, v);
      assert.equal(dev.size, t.size);
      assert.equal(dev.in(0, BalloonPort.ACTUAL, 4), t.size);
      assert.equal(dev.in(0, BalloonPort.RESULT, 4), t.result);
      const st = dev.in(0, BalloonPort.STATUS, 4);
      assert.equal((st & BalloonStatus.ACK) !== 0, t.ok);
      assert.equal((st & BalloonStatus.ERROR) !== 0, !t.ok);
      assert.deepEqual(log, t.log);
    });
  }

  // Table: batches through the list page.
  const batches: { name: string; ppns: number[]; count?: number; refuse?: number; done: number; ok: boolean }[] = [
    { name: 'three pages', ppns: [10, 11, 12], done: 3, ok: true },
    { name: 'the limit: 256 pages', ppns: Array.from({ length: BALLOON_MAX_BATCH }, (_, i) => 100 + i), done: BALLOON_MAX_BATCH, ok: true },
    { name: 'over the limit: 257 pages, none taken', ppns: Array.from({ length: BALLOON_MAX_BATCH + 1 }, (_, i) => 100 + i), done: 0, ok: false },
    { name: 'stops at a page beyond memory', ppns: [1, 2, PAGES + 3, 4], done: 2, ok: false },
    { name: 'stops at a duplicate', ppns: [1, 2, 1, 4], done: 2, ok: false },
    { name: 'stops where the VMM refuses', ppns: [1, 2, 3, 4], refuse: 3, done: 2, ok: false },
    { name: 'count 0 is a no-op that succeeds', ppns: [1], count: 0, done: 0, ok: true },
  ];
  for (const t of batches) {
    it(`inflate list: ${t.name}`, () => {
      const { dev, list, events } = setup(undefined, (p) => p === t.refuse);
      list(t.ppns);
      dev.out(0, BalloonPort.INFLATE_LIST, 4, t.count ?? t.ppns.length);
      assert.equal(dev.in(0, BalloonPort.RESULT, 4), t.done);
      assert.equal(dev.size, t.done);
      assert.equal((dev.status & BalloonStatus.ACK) !== 0, t.ok);
      for (const p of t.ppns.slice(0, t.done)) assert.ok(dev.holds(p));
      assert.equal(events.length, t.done > 0 ? 1 : 0);
      if (t.done > 0) assert.deepEqual({ action: events[0].action, pages: events[0].pages, size: events[0].size }, { action: 'inflate', pages: t.done, size: t.done });
    });
  }

  it('deflate list gives pages back in order and refuses past the limit', () => {
    const { dev, list, log } = setup();
    list([1, 2, 3, 4]);
    dev.out(0, BalloonPort.INFLATE_LIST, 4, 4);
    list([4, 3]);
    dev.out(0, BalloonPort.DEFLATE_LIST, 4, 2);
    assert.equal(dev.size, 2);
    assert.deepEqual(log.slice(4), ['deflate 4', 'deflate 3']);
    dev.out(0, BalloonPort.DEFLATE_LIST, 4, BALLOON_MAX_BATCH + 1);
    assert.equal(dev.in(0, BalloonPort.RESULT, 4), 0);
    assert.ok(dev.status & BalloonStatus.ERROR);
  });

  it('a misaligned list page is refused', () => {
    const { dev, mem } = setup();
    mem.writeU(LIST + 4, 4, 9);
    dev.out(0, BalloonPort.LIST, 4, LIST + 4);
    dev.out(0, BalloonPort.INFLATE_LIST, 4, 1);
    assert.equal(dev.size, 0);
    assert.equal(dev.counters.refused, 1);
  });

  it('pops: the host forgets every page, refuses requests until the driver acknowledges', () => {
    const { dev, list, log, events } = setup();
    list([1, 2, 3]);
    dev.out(0, BalloonPort.INFLATE_LIST, 4, 3);
    log.length = 0;
    dev.pop(2);
    assert.deepEqual(log, ['deflate 1', 'deflate 3'], 'the touched page is backed already; the others are unballooned');
    assert.equal(dev.size, 0);
    assert.equal(dev.counters.pops, 1);
    assert.ok(dev.status & BalloonStatus.POPPED);
    assert.equal(events.at(-1)!.action, 'pop');
    assert.equal(events.at(-1)!.pages, 3);
    dev.out(0, BalloonPort.INFLATE, 4, 9);
    assert.equal(dev.size, 0, 'no inflate while popped');
    assert.equal(dev.canDeliver(), false);
    dev.out(0, BalloonPort.STATUS, 4, BalloonStatus.POPPED);
    assert.equal(dev.status & BalloonStatus.POPPED, 0);
    dev.out(0, BalloonPort.INFLATE, 4, 9);
    assert.equal(dev.size, 1);
    dev.pop(500);
    assert.equal(dev.counters.pops, 1, 'a touch of a page not in the balloon is no pop');
  });

  // Table: the memory scheduler's view per failure mode, target 300 pages.
  const modes: { name: string; driver: (d: ReturnType<typeof setup>) => void; can: boolean; shortfall: number; why: RegExp | null }[] = [
    { name: 'no driver (none installed, or not loaded yet)', driver: () => undefined, can: false, shortfall: 300, why: /no balloon driver/ },
    { name: 'driver disabled', driver: (d) => d.dev.out(0, BalloonPort.DRIVER, 4, BalloonDriver.DISABLED), can: false, shortfall: 300, why: /disabled/ },
    { name: 'driver loaded, no cap in the way', driver: (d) => d.load(), can: true, shortfall: 0, why: null },
    { name: 'driver loaded, guest cap 200', driver: (d) => d.load(200), can: true, shortfall: 100, why: null },
    { name: 'driver stalled (no poll for too long)', driver: (d) => { d.load(); d.dev.in(0, BalloonPort.TARGET, 4); d.clock.s += STALLED_AFTER_S + 1; }, can: false, shortfall: 300, why: /not polled/ },
    { name: 'disabled after holding 50 pages', driver: (d) => { d.load(); d.list(Array.from({ length: 50 }, (_, i) => i)); d.dev.out(0, BalloonPort.INFLATE_LIST, 4, 50); d.dev.out(0, BalloonPort.DRIVER, 4, BalloonDriver.DISABLED); }, can: false, shortfall: 250, why: /disabled/ },
  ];
  for (const t of modes) {
    it(`memory scheduler's view: ${t.name}`, () => {
      const d = setup({ target: 300 });
      t.driver(d);
      assert.equal(d.dev.canDeliver(), t.can);
      assert.equal(d.dev.shortfall, t.shortfall);
      const why = d.dev.whyNot();
      if (t.why) assert.match(why ?? '', t.why);
      else assert.equal(why, null);
    });
  }

  it('applies the host schedule as simulated time passes, with a target event per change', () => {
    const { dev, clock, events } = setup({ target: 10, schedule: [{ at: 3, pages: 50 }, { at: 1, pages: 20 }] });
    assert.equal(dev.in(0, BalloonPort.TARGET, 4), 10);
    clock.s = 1.5;
    assert.equal(dev.in(0, BalloonPort.TARGET, 4), 20);
    clock.s = 3;
    assert.equal(dev.target, 50);
    dev.target = 5000;
    assert.equal(dev.target, PAGES, 'clamped to guest memory');
    assert.deepEqual(events.map((e) => [e.action, e.target]), [['target', 20], ['target', 50], ['target', PAGES]]);
  });

  it('the driver reports its state, cap and actual through ports', () => {
    const { dev, clock, load } = setup();
    clock.s = 2;
    load(332);
    dev.out(0, BalloonPort.ACTUAL, 4, 17);
    assert.deepEqual([dev.driverState, dev.guestLimit, dev.reportedActual, dev.loadedAt], ['loaded', 332, 17, 2]);
  });
});

describe('device attachment (Devices.attach)', () => {
  function devices(): Devices {
    return new Devices(new EventBus(), () => undefined, () => ({ icount: 0, rip: 0n }));
  }
  const fake = (name: string, ports: number[]) => ({ name, ports, in: () => 0x1234, out: () => undefined });

  it('routes a claimed port to its device and leaves others as an empty bus', () => {
    const d = devices();
    d.attach(fake('a', [0x60]));
    assert.equal(d.in(0, 0x60, 2), 0x1234);
    assert.equal(d.in(0, 0x61, 2), 0xffff);
    assert.equal(d.in(0, 0xe9, 1), 0xe9, 'the console still answers');
  });

  const conflicts: [string, number[]][] = [['the console', [0xe9]], ['the exit port', [0xf4]], ['another device', [0x60]]];
  for (const [what, ports] of conflicts) {
    it(`refuses a device whose port is taken by ${what}`, () => {
      const d = devices();
      d.attach(fake('a', [0x60]));
      assert.throws(() => d.attach(fake('b', ports)), /already taken/);
    });
  }

  it('finds an attached device by class', () => {
    const d = devices();
    const { dev } = setup();
    d.attach(dev);
    assert.equal(d.find(BalloonDevice), dev);
  });
});
