// The cost of the 2-D walk: with an empty TLB and no walk caches, an n-level guest walk over
// an m-level EPT makes (n+1)(m+1) − 1 memory references (24 for 4/4), every one recorded in
// the walk record; natively the same walk makes n. Table-driven over every guest paging mode
// and EPT depth (4-level, 5-level, 2 MiB and 1 GiB EPT pages), plus large guest pages and PAE.
import { strict as assert } from 'node:assert';
import { buildGuest, enterPaging, nativeReferences, nestedVm } from './nestedTestUtil';
import type { GuestPaging } from './nestedTestUtil';
import type { NestedOptions } from '../../../../src/engine/vmm/options';

const LINEAR: Record<GuestPaging, number> = {
  '32bit': (3 * 2 ** 22) + 5 * 4096,
  pae: 2 ** 30 + 3 * 2 ** 21 + 5 * 4096,
  '4level': 2 ** 39 + 2 * 2 ** 30 + 3 * 2 ** 21 + 4 * 4096,
  '5level': 2 ** 48 + 2 ** 39 + 2 * 2 ** 30 + 3 * 2 ** 21 + 4 * 4096,
};

interface Case {
  paging: GuestPaging;
  /** Guest levels read from memory per access (the formula's n). */
  n: number;
  largeLeaf?: boolean;
  ept: Partial<NestedOptions>;
  m: number;
}

const EPTS: { ept: Partial<NestedOptions>; m: number; label: string }[] = [
  { ept: {}, m: 4, label: '4-level EPT, 4 KiB pages' },
  { ept: { eptLevels: 5 }, m: 5, label: '5-level EPT' },
  { ept: { eptPageSize: '2m' }, m: 3, label: '2 MiB EPT pages' },
  { ept: { eptPageSize: '1g' }, m: 2, label: '1 GiB EPT pages' },
];

const GUESTS: { paging: GuestPaging; n: number; largeLeaf?: boolean }[] = [
  { paging: '32bit', n: 2 },
  // PAE: the PDPTEs are registers loaded at MOV CR3, so a walk reads 2 levels from memory.
  { paging: 'pae', n: 2 },
  { paging: '4level', n: 4 },
  { paging: '5level', n: 5 },
  { paging: '4level', n: 3, largeLeaf: true },
];

function setup(c: Case): { refs: number; rec: NonNullable<ReturnType<typeof nestedVm>['port']['lastWalk']> } {
  const oneGig = c.ept.eptPageSize === '1g';
  const s = nestedVm({
    memoryBytes: oneGig ? 2 ** 30 : 64 * 2 ** 20,
    machineBytes: oneGig ? 2 ** 31 + 2 ** 24 : 256 * 2 ** 20,
    modeOptions: { nested: c.ept },
  });
  const dataGpa = c.largeLeaf ? 0x400000 : 0x205000;
  const t = buildGuest(s.vm.mem, c.paging, LINEAR[c.paging], dataGpa, { largeLeaf: c.largeLeaf });
  enterPaging(s.port, c.paging, t.cr3);
  // First access: the EPT is empty, so it takes violations (lazy mapping) and retries.
  const pa1 = s.port.translate(LINEAR[c.paging], 0, false, false);
  assert.ok(pa1 >= 0, 'translation failed');
  // Now an empty TLB over a populated EPT: the pure 2-D walk.
  s.machine.hostTlb.flushVpid(undefined);
  const pa = s.port.translate(LINEAR[c.paging], 0, false, false);
  assert.equal(pa, pa1);
  const rec = s.port.lastWalk!;
  assert.equal(s.vm.mem.readU(dataGpa + (LINEAR[c.paging] % (c.largeLeaf ? 2 ** 21 : 4096)), 4), 0);
  return { refs: rec.memoryReferences, rec };
}

describe('nested: 2-D walk reference counts', () => {
  for (const e of EPTS) {
    for (const g of GUESTS) {
      const c: Case = { ...g, ept: e.ept, m: e.m };
      const expected = (c.n + 1) * (c.m + 1) - 1;
      it(`${g.paging}${g.largeLeaf ? ' (2 MiB guest page)' : ''} guest on ${e.label}: (${c.n}+1)(${c.m}+1)−1 = ${expected}`, () => {
        const { refs, rec } = setup(c);
        assert.equal(refs, expected);
        // Every reference is in the record: n guest reads, an m-read EPT walk per guest level, m for the final gpa.
        assert.equal(rec.entryReads, c.n);
        assert.equal(rec.adWrites, 0);
        const memLevels = rec.levels.filter((l) => !(g.paging === 'pae' && l.name === 'PDPT'));
        assert.equal(memLevels.length, c.n);
        for (const l of memLevels) {
          assert.ok(l.secondStage, `${l.name} has no EPT walk`);
          assert.equal(l.secondStage!.entryReads, c.m, `${l.name}'s EPT walk`);
          assert.equal(l.secondStage!.purpose, 'table');
          assert.equal(l.secondStage!.levels.at(-1)!.leaf, true);
        }
        assert.equal(rec.finalSecondStage!.entryReads, c.m);
        assert.equal(rec.finalSecondStage!.purpose, 'final');
        assert.equal(rec.secondStageReferences, c.n * c.m + c.m);
      });
    }
  }

  for (const g of GUESTS) {
    it(`native ${g.paging}${g.largeLeaf ? ' (2 MiB page)' : ''}: n = ${g.n} references`, () => {
      const dataGpa = g.largeLeaf ? 0x400000 : 0x205000;
      assert.equal(nativeReferences((mem) => buildGuest(mem, g.paging, LINEAR[g.paging], dataGpa, { largeLeaf: g.largeLeaf }), g.paging, LINEAR[g.paging]), g.n);
    });
  }

  it('PAE: the PDPTE load at MOV CR3 goes through the EPT too (one EPT walk per PDPTE), outside the per-access count', () => {
    const s = nestedVm();
    const t = buildGuest(s.vm.mem, 'pae', LINEAR.pae, 0x205000);
    enterPaging(s.port, 'pae', t.cr3);
    // Reload now that the EPT maps the PDPT page: four EPT walks of m = 4 reads each.
    assert.ok(s.port.loadPdptes());
    const walks = s.port.lastPdpteLoad;
    assert.equal(walks.length, 4);
    for (const w of walks) {
      assert.equal(w.purpose, 'pdpte');
      assert.equal(w.entryReads, 4);
    }
  });

  it('a cold walk also counts the A/D write-backs: guest A/D writes are extra references', () => {
    const s = nestedVm();
    const t = buildGuest(s.vm.mem, '4level', LINEAR['4level'], 0x205000, { accessed: false });
    enterPaging(s.port, '4level', t.cr3);
    // Populate the EPT with a probe-free read of each table page, then clear the guest A bits again.
    s.port.translate(LINEAR['4level'], 0, false, false);
    buildGuest(s.vm.mem, '4level', LINEAR['4level'], 0x205000, { accessed: false });
    s.machine.hostTlb.flushVpid(undefined);
    s.port.translate(LINEAR['4level'], 1, false, false);
    const rec = s.port.lastWalk!;
    assert.equal(rec.entryReads, 4);
    assert.equal(rec.adWrites, 4); // A in PML4E, PDPTE, PDE; A|D in the PTE (one write)
    assert.equal(rec.memoryReferences, 24 + 4);
  });

  it('walk caches (nested TLB + EPT paging-structure caches) cut the second dimension: a repeated walk costs only the n guest reads', () => {
    const run = (walkCaches: boolean): number[] => {
      const s = nestedVm({ modeOptions: { nested: { walkCaches } } });
      const lin = LINEAR['4level'];
      const t = buildGuest(s.vm.mem, '4level', lin, 0x205000);
      // A second page in the same guest PT, backed by the neighbouring gpa.
      s.vm.mem.writeU(t.tables[3] + (((lin / 4096) % 512) + 1) * 8, 4, 0x206000 | 0x67);
      enterPaging(s.port, '4level', t.cr3);
      s.port.translate(lin, 0, false, false);
      s.port.translate(lin + 4096, 0, false, false);
      s.machine.hostTlb.flushVpid(undefined);
      s.port.translate(lin, 0, false, false);
      const a = s.port.lastWalk!.memoryReferences;
      s.port.translate(lin + 4096, 0, false, false);
      return [a, s.port.lastWalk!.memoryReferences];
    };
    assert.deepEqual(run(false), [24, 24]);
    const [first, second] = run(true);
    // Both pages' 2-D walks were made once before: every table gpa and both data gpas hit the nested TLB.
    assert.equal(first, 4);
    assert.equal(second, 4);
  });

  it('walk caches: a data page never translated before costs n + its EPT leaf read (upper EPT levels cached)', () => {
    const s = nestedVm({ modeOptions: { nested: { walkCaches: true } } });
    const lin = LINEAR['4level'];
    const t = buildGuest(s.vm.mem, '4level', lin, 0x205000);
    s.vm.mem.writeU(t.tables[3] + (((lin / 4096) % 512) + 1) * 8, 4, 0x207000 | 0x67);
    enterPaging(s.port, '4level', t.cr3);
    s.port.translate(lin, 0, false, false);
    // gpa 0x207000 is not in the EPT yet: a violation maps it (no INVEPT needed for a new
    // mapping, so the caches survive) and the retried walk is the one recorded.
    s.port.translate(lin + 4096, 0, false, false);
    const rec = s.port.lastWalk!;
    assert.equal(rec.entryReads, 4);
    assert.equal(rec.finalSecondStage!.entryReads, 1);
    assert.equal(rec.finalSecondStage!.cachedLevels, 3);
    assert.equal(rec.memoryReferences, 5);
  });
});
