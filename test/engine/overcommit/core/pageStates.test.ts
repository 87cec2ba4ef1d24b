// The p2m's page-state machine, table-driven: every state × every operation, with the state it
// ends in, what it returns, the mapper calls it makes (revoke before a frame goes), the events
// it emits, the page's contents afterwards and the frame accounting.
import { strict as assert } from 'node:assert';
import { MachineMemory } from '../../../../src/engine/machine/machineMemory';
import { P2m, P2mGuestMemory } from '../../../../src/engine/vmm/p2m';
import type { P2mMapper, PageState } from '../../../../src/engine/vmm/p2m';
import { EventBus } from '../../../../src/engine/events';
import type { EngineEvent } from '../../../../src/engine/events';
import { REFCOUNT_OVERFLOW } from '../../../../src/engine/vmm/sharedFrames';

const PAGE = 4096;
const VM = 1;
const PPN = 5;
const MARK = 0x5a;

interface Rig {
  mem: MachineMemory;
  p2m: P2m;
  revokes: string[];
  events: EngineEvent[];
}

function rig(): Rig {
  const mem = new MachineMemory(64 * PAGE);
  const p2m = new P2m(mem, VM, 16 * PAGE);
  const revokes: string[] = [];
  const mapper: P2mMapper = { revoke: (ppn, to) => void revokes.push(`${ppn}:${to}`) };
  p2m.mapper = mapper;
  const bus = new EventBus();
  const events: EngineEvent[] = [];
  bus.on('*', (e) => void events.push(e));
  p2m.events = { bus, stamp: () => ({ icount: 0, vcpu: 0, rip: 0n }) };
  return { mem, p2m, revokes, events };
}

/** Puts page PPN in a state (contents MARK at offset 0 when it has any). */
const SETUPS: Record<string, (r: Rig) => void> = {
  unbacked: () => undefined,
  private: (r) => writeMark(r),
  shared: (r) => {
    writeMark(r);
    assert.ok(r.p2m.shareInPlace(PPN) >= 0);
  },
  ballooned: (r) => {
    writeMark(r);
    assert.ok(r.p2m.balloon(PPN));
  },
  swapped: (r) => {
    writeMark(r);
    assert.ok(r.p2m.swapOut(PPN));
  },
  'guest-pt': (r) => {
    writeMark(r);
    r.mem.frames.setUse(r.p2m.lookup(PPN), 'guest-pt');
  },
};

function writeMark(r: Rig): void {
  new P2mGuestMemory(r.p2m).write8(PPN * PAGE, MARK);
}

type Op = (r: Rig) => unknown;
const OPS: Record<string, Op> = {
  'back read': (r) => r.p2m.back(PPN, 'read') >= 0,
  'back write': (r) => r.p2m.back(PPN, 'write') >= 0,
  resident: (r) => r.p2m.resident(PPN) >= 0,
  swapOut: (r) => r.p2m.swapOut(PPN),
  balloon: (r) => r.p2m.balloon(PPN),
  deflate: (r) => r.p2m.deflate(PPN),
  shareWith: (r) => {
    const m = r.mem.shared.createShared(-1);
    const ok = r.p2m.shareWith(PPN, m);
    if (!ok) r.mem.shared.dropIfUnused(m);
    return ok;
  },
  shareInPlace: (r) => r.p2m.shareInPlace(PPN) >= 0,
};

interface Want {
  state: PageState;
  result: unknown;
  revokes: string[];
  events: string[];
  /** The byte at offset 0 as the VMM reads it afterwards (MARK, 0). */
  byte: number;
}

const w = (state: PageState, result: unknown, revokes: string[], events: string[], byte: number): Want => ({ state, result, revokes, events, byte });
const NONE = [`${PPN}:none`];
const RO = [`${PPN}:read-only`];

// Rows: setup; columns: operation.
const TABLE: Record<string, Record<string, Want>> = {
  unbacked: {
    'back read': w('private', true, [], [], 0),
    'back write': w('private', true, [], [], 0),
    resident: w('unbacked', false, [], [], 0),
    swapOut: w('unbacked', false, [], [], 0),
    balloon: w('ballooned', true, [], [], 0),
    deflate: w('unbacked', undefined, [], [], 0),
    shareWith: w('unbacked', false, [], [], 0),
    shareInPlace: w('unbacked', false, [], [], 0),
  },
  private: {
    'back read': w('private', true, [], [], MARK),
    'back write': w('private', true, [], [], MARK),
    resident: w('private', true, [], [], MARK),
    swapOut: w('swapped', true, NONE, ['swap-out'], MARK),
    balloon: w('ballooned', true, NONE, [], 0),
    deflate: w('private', undefined, [], [], MARK),
    shareWith: w('shared', true, NONE, ['page-shared'], 0), // the shared frame holds zeros: the caller vouched they were equal
    shareInPlace: w('shared', true, RO, ['page-shared'], MARK),
  },
  shared: {
    'back read': w('shared', true, [], [], MARK),
    'back write': w('private', true, NONE, ['cow-break'], MARK),
    resident: w('shared', true, [], [], MARK),
    swapOut: w('shared', false, [], [], MARK),
    balloon: w('ballooned', true, NONE, [], 0),
    deflate: w('shared', undefined, [], [], MARK),
    shareWith: w('shared', false, [], [], MARK),
    shareInPlace: w('shared', false, [], [], MARK),
  },
  ballooned: {
    'back read': w('private', true, [], [], 0),
    'back write': w('private', true, [], [], 0),
    resident: w('ballooned', false, [], [], 0),
    swapOut: w('ballooned', false, [], [], 0),
    balloon: w('ballooned', false, [], [], 0),
    deflate: w('unbacked', undefined, [], [], 0),
    shareWith: w('ballooned', false, [], [], 0),
    shareInPlace: w('ballooned', false, [], [], 0),
  },
  swapped: {
    'back read': w('private', true, [], ['swap-in'], MARK),
    'back write': w('private', true, [], ['swap-in'], MARK),
    resident: w('private', true, [], ['double-paging', 'swap-in'], MARK),
    swapOut: w('swapped', false, [], [], MARK),
    balloon: w('ballooned', true, [], [], 0),
    deflate: w('swapped', undefined, [], [], MARK),
    shareWith: w('swapped', false, [], [], MARK),
    shareInPlace: w('swapped', false, [], [], MARK),
  },
  'guest-pt': {
    'back read': w('private', true, [], [], MARK),
    'back write': w('private', true, [], [], MARK),
    resident: w('private', true, [], [], MARK),
    swapOut: w('private', false, [], [], MARK),
    balloon: w('private', false, [], [], MARK),
    deflate: w('private', undefined, [], [], MARK),
    shareWith: w('private', false, [], [], MARK),
    shareInPlace: w('private', false, [], [], MARK),
  },
};

/** Frames in use by owner: the VM's private frames + shared frames = what the p2m accounts for. */
function checkAccounting(r: Rig): void {
  const census = r.mem.frames.census();
  const vm = census.byOwner.get(VM);
  const own = vm ? vm['guest-data'] + vm['guest-pt'] : 0;
  assert.equal(own, r.p2m.pagesIn('private'), 'private frames');
  assert.equal(census.byOwner.get(0)?.shared ?? 0, r.mem.shared.count, 'shared frames');
  assert.equal(r.mem.shared.references, r.p2m.pagesIn('shared'), 'shared references');
  assert.equal(r.p2m.swapFile.used, r.p2m.pagesIn('swapped'), 'swap slots');
  assert.equal(r.p2m.backedPages, r.p2m.pagesIn('private') + r.p2m.pagesIn('shared'));
}

describe('overcommit core: p2m page states (every state × every operation)', () => {
  for (const [from, row] of Object.entries(TABLE)) {
    for (const [op, want] of Object.entries(row)) {
      it(`${from} --${op}--> ${want.state}`, () => {
        const r = rig();
        SETUPS[from](r);
        r.revokes.length = 0;
        r.events.length = 0;
        const result = OPS[op](r);
        assert.equal(r.p2m.stateOf(PPN), want.state);
        assert.equal(result, want.result, `${op} returned ${String(result)}`);
        assert.deepEqual(r.revokes, want.revokes, 'mapper calls');
        assert.deepEqual(r.events.map((e) => e.kind), want.events, 'events');
        if (want.result === false && op !== 'resident') assert.match(r.p2m.lastRefusal, /refused/);
        checkAccounting(r);
        // Reading back never changes the verdict on contents (and swaps a swapped page in).
        assert.equal(new P2mGuestMemory(r.p2m).read8(PPN * PAGE), want.byte);
        checkAccounting(r);
      });
    }
  }
});

describe('overcommit core: p2m details', () => {
  it('a swap-in charges the swap file latency to the VM as stall cycles; a swap-out charges nothing', () => {
    const r = rig();
    writeMark(r);
    assert.ok(r.p2m.swapOut(PPN));
    assert.equal(r.p2m.stalls.cycles, 0);
    r.p2m.back(PPN, 'read');
    assert.equal(r.p2m.stalls.cycles, r.p2m.swapFile.readLatency);
    const ev = r.events.find((e) => e.kind === 'swap-in');
    assert.ok(ev && ev.kind === 'swap-in' && ev.latency === r.p2m.swapFile.readLatency && ev.by === 'vmm');
  });

  it('reads of unbacked and ballooned pages see zeros without backing them', () => {
    const r = rig();
    const g = new P2mGuestMemory(r.p2m);
    assert.equal(g.read32(3 * PAGE), 0);
    assert.equal(r.p2m.stateOf(3), 'unbacked');
    r.p2m.balloon(4);
    assert.equal(g.read32(4 * PAGE), 0);
    assert.equal(r.p2m.stateOf(4), 'ballooned');
    assert.equal(r.p2m.backedPages, 0);
  });

  it('COW: the writer gets a private copy, the other sharers keep the shared frame; the last reference frees it', () => {
    const r = rig();
    const g = new P2mGuestMemory(r.p2m);
    for (const p of [1, 2, 3]) g.write8(p * PAGE + 7, 0x33);
    const mpn = r.p2m.shareInPlace(1);
    assert.ok(r.p2m.shareWith(2, mpn) && r.p2m.shareWith(3, mpn));
    assert.equal(r.mem.shared.refs(mpn), 3);
    const freeBefore = r.mem.frames.free;
    g.write8(2 * PAGE + 7, 0x44);
    assert.equal(r.p2m.stateOf(2), 'private');
    assert.notEqual(r.p2m.lookup(2), mpn);
    assert.equal(r.mem.frames.free, freeBefore - 1, 'one frame for the copy');
    assert.equal(g.read8(1 * PAGE + 7), 0x33);
    assert.equal(g.read8(3 * PAGE + 7), 0x33);
    assert.equal(g.read8(2 * PAGE + 7), 0x44);
    assert.equal(r.mem.shared.refs(mpn), 2);
    g.write8(1 * PAGE, 1);
    // The last sharer takes the frame over: no copy, no new frame.
    const before = r.mem.frames.free;
    g.write8(3 * PAGE, 1);
    assert.equal(r.p2m.lookup(3), mpn);
    assert.equal(r.mem.frames.free, before);
    assert.equal(r.mem.shared.count, 0);
    const breaks = r.events.filter((e) => e.kind === 'cow-break').map((e) => (e.kind === 'cow-break' ? e.refsLeft : -1));
    assert.deepEqual(breaks, [2, 1, 0]);
  });

  it('refcounts past 65,534 go to the overflow table and come back', () => {
    const mem = new MachineMemory(64 * PAGE);
    const mpn = mem.shared.createShared(-1);
    const n = REFCOUNT_OVERFLOW + 10;
    for (let i = 0; i < n; i++) mem.shared.addRef(mpn);
    assert.equal(mem.shared.refs(mpn), n);
    assert.equal(mem.shared.overflowed, 1);
    for (let i = 0; i < 20; i++) mem.shared.release(mpn);
    assert.equal(mem.shared.refs(mpn), n - 20);
    assert.equal(mem.shared.overflowed, 0);
    for (let i = 0; i < n - 21; i++) mem.shared.release(mpn);
    assert.equal(mem.shared.refs(mpn), 1);
    assert.equal(mem.frames.useOf(mpn), 'shared');
    mem.shared.release(mpn);
    assert.equal(mem.frames.useOf(mpn), 'free');
  });

  it('a pinned page is not swapped until unpinned; a sampled page reports its next touch once', () => {
    const r = rig();
    writeMark(r);
    r.p2m.pin(PPN);
    assert.equal(r.p2m.swapOut(PPN), false);
    assert.match(r.p2m.lastRefusal, /pinned/);
    r.p2m.unpin(PPN);
    const touches: number[] = [];
    r.p2m.observer = { touched: () => undefined, sampledTouch: (p) => void touches.push(p) };
    r.p2m.sample(PPN);
    assert.deepEqual(r.revokes, [`${PPN}:none`]);
    r.p2m.back(PPN, 'read');
    r.p2m.back(PPN, 'read');
    assert.deepEqual(touches, [PPN]);
  });

  it('costs 6 bytes per guest page: a 1 GiB VM has a 1.5 MiB p2m', () => {
    const mem = new MachineMemory(64 * PAGE);
    const before = process.memoryUsage().arrayBuffers;
    const p2m = new P2m(mem, 1, 1024 * 1024 * 1024);
    const grew = process.memoryUsage().arrayBuffers - before;
    assert.equal(p2m.pages, 262144);
    assert.ok(grew <= 6 * 262144 + 4096, `${grew} bytes`);
  });
});
