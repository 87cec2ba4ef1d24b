// The fast 2-D walk also serves the commonest exits: a warm guest walk (A/D bits to set
// included) whose final gpa the EPT does not map or maps without the access's right. It must
// be the full walk to the bit: the same exits and events (qualification, gpa, gva, resolution),
// the same record of the failed walk (read by a listener while the exit is handled, and the
// record of the retried walk after), the same counts (2-D walks, references, TLB misses), the
// same TLB entry, guest A/D bits and EPT. Each scenario runs twice — fast path off, then on —
// and the observations are compared whole; anything the fast walk cannot reproduce exactly (an
// EPT refusing a guest A/D write, a table page not mapped) must still go to the full walk.
import { strict as assert } from 'node:assert';
import type { EngineEvent } from '../../../../src/engine/events';
import type { NestedOptions } from '../../../../src/engine/vmm/options';
import type { NestedMmu } from '../../../../src/engine/vmm/nested';
import { PAGE_SIZE } from '../../../../src/engine/memory/frame';
import { buildGuest, enterPaging, nestedVm, WALK_LINEAR, EPT_VARIANTS } from './nestedTestUtil';
import type { GuestPaging, NestedSetup } from './nestedTestUtil';

const LINEAR = WALK_LINEAR;
const DATA = 0x205000;
const EPTS = EPT_VARIANTS;
const ACCESSES: { label: string; access: 0 | 1 | 2; user: boolean }[] = [
  { label: 'read', access: 0, user: false },
  { label: 'user read', access: 0, user: true },
  { label: 'user write', access: 1, user: true },
  { label: 'fetch', access: 2, user: false },
];

interface Scenario {
  label: string;
  /** Guest tables with A (and D) clear: the walk writes them. */
  accessed: boolean;
  /** Whether the observed access exits (else it is a plain hit or a guest #PF: still compared). */
  exits(access: 0 | 1 | 2, user: boolean): boolean;
  /** Leaf flags (default P|RW|US with A/D as `accessed` says). */
  leafFlags?: number;
  /** Before the observed access, after the cold one that mapped everything. */
  prepare(s: NestedSetup, t: { tables: number[] }): void;
}

/** Clears A and D in every guest entry on the path (the walk must set them again). */
function clearAccessed(s: NestedSetup, tables: number[], linear: number, paging: GuestPaging): void {
  const shifts = paging === '5level' ? [48, 39, 30, 21, 12] : [39, 30, 21, 12];
  tables.forEach((table, i) => {
    const gpa = table + (Math.floor(linear / 2 ** shifts[i]) % 512) * 8;
    s.vm.mem.writeU(gpa, 4, s.vm.mem.readU(gpa, 4) & ~0x60);
  });
}

const SCENARIOS: Scenario[] = [
  { label: 'cold (EPT empty, guest A/D clear)', accessed: false, exits: () => true, prepare: () => undefined },
  {
    label: 'data page revoked (swapped out), guest A/D clear',
    accessed: false,
    exits: () => true,
    prepare: (s) => s.instance.vmm.revoke(DATA / PAGE_SIZE, 'none'),
  },
  {
    label: 'data page revoked, guest entries warm',
    accessed: true,
    exits: () => true,
    prepare: (s) => s.instance.vmm.revoke(DATA / PAGE_SIZE, 'none'),
  },
  {
    label: 'data page read-only in the EPT (copy-on-write), resolved by the policy',
    accessed: true,
    exits: (access) => access === 1,
    prepare: (s) => {
      s.instance.vmm.protect(DATA, { read: true, write: false, execute: true });
      s.instance.vmm.protectionHandlers.push((v, vmm) => {
        vmm.unprotect(v.gpa);
        return { kind: 'retry' };
      });
    },
  },
  {
    label: 'leaf read-only and clean in the guest',
    accessed: true,
    leafFlags: 0x25,
    exits: (access, user) => !(access === 1 && user),
    prepare: (s) => s.instance.vmm.revoke(DATA / PAGE_SIZE, 'none'),
  },
];

/** A scenario whose guest A/D writes the EPT refuses (a table page read-only): the full walk's exit. */
const REFUSED: Scenario = {
  label: 'a guest table page read-only in the EPT while its entry needs A',
  accessed: false,
  exits: () => true,
  prepare: (s, t) => {
    s.instance.vmm.protect(t.tables[1], { read: true, write: false, execute: true });
    s.instance.vmm.protectionHandlers.push((v, vmm) => {
      vmm.unprotect(v.gpa);
      return { kind: 'retry' };
    });
  },
};

interface Observed {
  pa: number;
  events: unknown[];
  /** The MMU's last walk as a listener of each ept-violation sees it. */
  duringExit: unknown[];
  after: unknown;
  walks: number;
  refs: number;
  misses: number;
  tlb: unknown;
  stats: unknown;
  exits: unknown;
  guestEntries: number[];
  ept: unknown;
  lastExit: unknown;
}

/** In the last observe(): final-translation violations, and those the full walk raised (translateFinal). */
const finals = { all: 0, full: 0 };

function observe(paging: '4level' | '5level', nested: Partial<NestedOptions>, a: { access: 0 | 1 | 2; user: boolean }, sc: Scenario, fast: boolean): Observed {
  const s = nestedVm({ memoryBytes: 64 * 2 ** 20, machineBytes: 256 * 2 ** 20, modeOptions: { nested } });
  if (!fast) (s.port as unknown as { fast: unknown }).fast = null;
  const port: NestedMmu = s.port;
  const lin = LINEAR[paging];
  const t = buildGuest(s.vm.mem, paging as GuestPaging, lin, DATA, { accessed: true, leafFlags: sc.leafFlags });
  enterPaging(port, paging, t.cr3);
  // Cold: map the tables and the page (full walks: table pages unmapped), then the scenario.
  if (sc.label.startsWith('cold')) {
    clearAccessed(s, t.tables, lin, paging);
  } else {
    assert.ok(port.translate(lin, 0, false, false) >= 0, port.fault?.reason);
    sc.prepare(s, t);
    if (!sc.accessed) clearAccessed(s, t.tables, lin, paging);
  }
  s.machine.hostTlb.flushVpid(undefined);
  const events: unknown[] = [];
  const duringExit: unknown[] = [];
  finals.all = 0;
  finals.full = 0;
  const tr = s.instance.vmm.translator;
  const translateFinal = tr.translateFinal.bind(tr);
  tr.translateFinal = (rec, linear) => {
    try {
      return translateFinal(rec, linear);
    } catch (e) {
      finals.full++;
      throw e;
    }
  };
  s.vm.bus.on('ept-violation', (e: EngineEvent) => {
    if (e.kind === 'ept-violation' && (e.qualification & 0x100n) !== 0n) finals.all++;
    events.push(e);
    duringExit.push(port.lastWalk);
  });
  s.vm.bus.on('vm-exit', (e: EngineEvent) => events.push(e));
  s.vm.bus.on('invept', (e: EngineEvent) => events.push(e));
  const w0 = tr.walks;
  const r0 = tr.walkReferences;
  const m0 = s.machine.hostTlb.counters().misses;
  const pa = port.translate(lin, a.access, a.user, false);
  const shifts = paging === '5level' ? [48, 39, 30, 21, 12] : [39, 30, 21, 12];
  const last = s.monitor.lastExit;
  return {
    pa, events, duringExit,
    after: port.lastWalk,
    walks: tr.walks - w0, refs: tr.walkReferences - r0,
    misses: s.machine.hostTlb.counters().misses - m0,
    tlb: s.machine.hostTlb.entries().map((e) => ({ ...e, lastUse: 0 })),
    stats: { ...s.instance.vmm.stats },
    exits: s.monitor.countsByName(),
    guestEntries: t.tables.map((table, i) => s.vm.mem.readU(table + (Math.floor(lin / 2 ** shifts[i]) % 512) * 8, 4)),
    ept: s.instance.vmm.ept.leaves(),
    lastExit: last && { reason: last.reason, name: last.reasonName, q: last.qualification, words: last.description, gpa: last.guestPhysical, gva: last.guestLinear },
  };
}

describe('nested: the fast 2-D walk raises the final EPT violation exactly as the full walk', () => {
  for (const paging of ['4level', '5level'] as const) {
    for (const sc of SCENARIOS) {
      for (const e of EPTS) {
        for (const a of ACCESSES) {
          it(`${paging}, ${sc.label}, ${e.label}, ${a.label}`, () => {
            const full = observe(paging, e.nested, a, sc, false);
            const fast = observe(paging, e.nested, a, sc, true);
            assert.deepEqual(fast, full);
            // The final-translation violation was the fast walk's (the point of the path) —
            // except where the walk just mapped the tables must set their EPT A/D bits first.
            assert.equal(finals.all > 0, sc.exits(a.access, a.user));
            const viaFull = sc.label.startsWith('cold') && e.nested.accessedDirty === true;
            assert.equal(finals.full, viaFull ? finals.all : 0);
            // The scenario did what it says: an exit, then the access resolved (or a guest #PF).
            assert.equal(full.events.some((x) => (x as EngineEvent).kind === 'ept-violation'), sc.exits(a.access, a.user));
            assert.equal(full.pa >= 0, !(sc.leafFlags !== undefined && a.access === 1 && a.user));
          });
        }
      }
    }
  }

  for (const nested of [{}, { accessedDirty: true }] as Partial<NestedOptions>[]) {
    it(`${REFUSED.label}${nested.accessedDirty ? ' (EPT A/D)' : ''}: the full walk raises the paging-structure exit`, () => {
      const full = observe('4level', nested, { access: 0, user: false }, REFUSED, false);
      const fast = observe('4level', nested, { access: 0, user: false }, REFUSED, true);
      assert.deepEqual(fast, full);
      const quals = full.events.filter((x): x is Extract<EngineEvent, { kind: 'ept-violation' }> => (x as EngineEvent).kind === 'ept-violation').map((x) => Number(x.qualification));
      // Bits 0 and 1 (a read-modify-write), bit 7 (linear valid), bit 8 clear (a table access).
      assert.ok(quals.some((q) => (q & 3) === 3 && (q & 0x180) === 0x80), `qualifications ${quals.map((q) => q.toString(16))}`);
    });
  }

  it('a warm first touch takes the fast walk: its failed record is built only when asked for', () => {
    const s = nestedVm({ memoryBytes: 64 * 2 ** 20, machineBytes: 256 * 2 ** 20, modeOptions: { nested: { eptPageSize: '4k' } } });
    const lin = LINEAR['4level'];
    const t = buildGuest(s.vm.mem, '4level', lin, DATA, { accessed: false });
    enterPaging(s.port, '4level', t.cr3);
    // Another page in the same last-level table maps the table pages.
    buildGuest(s.vm.mem, '4level', lin + 4096, DATA + 4096, { accessed: false });
    assert.ok(s.port.translate(lin + 4096, 0, false, false) >= 0);
    let lazyAtExit: boolean | undefined;
    s.vm.bus.on('ept-violation', () => {
      lazyAtExit = (s.port as unknown as { lastWalkLazy: boolean }).lastWalkLazy;
    });
    assert.ok(s.port.translate(lin, 1, false, false) >= 0);
    assert.equal(lazyAtExit, true, 'the exit came from the fast walk');
    const rec = s.port.lastWalk!;
    assert.equal(rec.ok, true);
    assert.equal(rec.finalSecondStage?.ok, true, 'after the retry: the successful walk');
    assert.equal(rec.levels[3].flags.d, true, 'the retried walk finds the D the failed one set');
  });
});
