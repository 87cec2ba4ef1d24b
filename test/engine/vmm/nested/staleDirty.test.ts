// Regression: with EPT A/D on, a combined TLB entry whose guest half is dirty but whose EPT D
// was still clear used to be cached not-dirty, so the first write through it re-walked the
// *guest's* tables — and saw a PTE change the guest had not flushed (R/W or U/S cleared without
// INVLPG), which natively stays invisible behind the dirty TLB entry. Found by the deep
// differential run (seeds 1448 and 1148, "nested/2m-ept,A/D"). Now such a write re-checks only
// the EPT (setting its D bit, or exiting) and keeps the guest half as cached.
import { strict as assert } from 'node:assert';
import { Mmu, Tlb } from '../../../../src/engine/mmu';
import { PhysicalMemory } from '../../../../src/engine/memory/physicalMemory';
import type { GuestMemory } from '../../../../src/engine/memory/guestMemory';
import type { NestedOptions } from '../../../../src/engine/vmm/options';
import { EPT_D } from '../../../../src/engine/vmm/nested/eptFormat';
import { assembleOk } from '../../../support/runAsm';
import { digestPages, generateProgram, renderProgram } from '../../../support/guestGen/generate';
import { firstDifference, runTrace } from '../fidelity/trace';
import { buildGuest, enterPaging, nestedVm } from './nestedTestUtil';
import type { GuestPaging } from './nestedTestUtil';

const LINEAR = 0x40005000;
const DATA = 0x408000;
const EPTS: { label: string; nested: Partial<NestedOptions> }[] = [
  { label: '4 KiB EPT', nested: {} },
  { label: '4 KiB EPT, A/D', nested: { accessedDirty: true } },
  { label: '2 MiB EPT, A/D', nested: { eptPageSize: '2m', accessedDirty: true } },
  { label: '2 MiB EPT, A/D, walk caches', nested: { eptPageSize: '2m', accessedDirty: true, walkCaches: true } },
];

interface Step {
  access: 0 | 1 | 2;
  user: boolean;
}

interface Edit {
  label: string;
  /** Bits XORed into the leaf PTE (no INVLPG afterwards). */
  xor: number;
  /** Accesses after the edit; natively every one hits the stale dirty entry. */
  then: Step[];
}

const EDITS: Edit[] = [
  { label: 'R/W cleared, then a supervisor write (CR0.WP=1)', xor: 0x2, then: [{ access: 1, user: false }] },
  { label: 'R/W cleared, then a user write', xor: 0x2, then: [{ access: 1, user: true }] },
  { label: 'U/S cleared, then a supervisor write and a user read', xor: 0x4, then: [{ access: 1, user: false }, { access: 0, user: true }] },
  { label: 'frame changed, then a write lands in the old frame', xor: 0x1000, then: [{ access: 1, user: false }, { access: 0, user: false }] },
];

const PAGINGS: GuestPaging[] = ['32bit', 'pae', '4level'];
const CR0_WP = 0x10000;

/** The leaf PTE's gpa in tables built by buildGuest (the last table, indexed by linear). */
function leafGpa(tables: number[], paging: GuestPaging): number {
  return tables[tables.length - 1] + ((LINEAR >>> 12) & (paging === '32bit' ? 1023 : 511)) * (paging === '32bit' ? 4 : 8);
}

function run(port: Mmu, mem: GuestMemory, paging: GuestPaging, tables: number[], e: Edit): number[] {
  const out = [port.translate(LINEAR + 0x100, 0, false, false)];
  const pte = leafGpa(tables, paging);
  mem.writeU(pte, 4, mem.readU(pte, 4) ^ e.xor);
  for (const s of e.then) out.push(port.translate(LINEAR + 0x200, s.access, s.user, false));
  return out;
}

describe('nested: a write through a stale dirty entry never re-reads the guest tables', () => {
  for (const paging of PAGINGS) {
    for (const e of EDITS) {
      for (const cfg of EPTS) {
        it(`${paging}, ${e.label}, ${cfg.label}: same outcome as native`, () => {
          // Native: the same tables in plain memory.
          const nmem = new PhysicalMemory(32 * 2 ** 20);
          const nt = buildGuest(nmem, paging, LINEAR, DATA);
          const native = new Mmu(nmem, new Tlb());
          enterPaging(native, paging, nt.cr3);
          native.setControl(native.control().cr0 | CR0_WP, nt.cr3, native.control().cr4, native.control().efer);
          if (paging === 'pae') native.loadPdptes();
          const want = run(native, nmem, paging, nt.tables, e);
          assert.ok(want.every((pa) => pa >= 0), 'natively every access hits the stale entry');

          const s = nestedVm({ memoryBytes: 32 * 2 ** 20, machineBytes: 128 * 2 ** 20, modeOptions: { nested: cfg.nested } });
          const t = buildGuest(s.vm.mem, paging, LINEAR, DATA);
          enterPaging(s.port, paging, t.cr3);
          const c = s.port.control();
          s.port.setControl(c.cr0 | CR0_WP, t.cr3, c.cr4, c.efer);
          if (paging === 'pae') s.port.loadPdptes();
          const walksBefore = () => s.instance.vmm.translator.walks;
          const got: number[] = [];
          got.push(s.port.translate(LINEAR + 0x100, 0, false, false));
          const walks = walksBefore();
          const pte = leafGpa(t.tables, paging);
          s.vm.mem.writeU(pte, 4, s.vm.mem.readU(pte, 4) ^ e.xor);
          for (const st of e.then) got.push(s.port.translate(LINEAR + 0x200, st.access, st.user, false));
          assert.ok(got.every((pa) => pa >= 0), `nested faulted: ${s.port.fault?.reason}`);
          assert.equal(s.port.fault, null);
          assert.equal(walksBefore(), walks, 'no 2-D walk after the first access');
          // The guest-physical view agrees: offsets within the page are the same.
          assert.deepEqual(got.map((pa) => pa % 4096), want.map((pa) => pa % 4096));
          if (cfg.nested.accessedDirty) {
            const leaf = s.instance.vmm.ept.leaf(DATA)!;
            assert.ok(leaf.lo & EPT_D, 'the write set the EPT D bit');
          }
        });
      }
    }
  }

  it('a clean guest entry still re-walks the guest tables on the first write (sets the guest D bit)', () => {
    const s = nestedVm({ memoryBytes: 32 * 2 ** 20, machineBytes: 128 * 2 ** 20, modeOptions: { nested: { accessedDirty: true } } });
    const t = buildGuest(s.vm.mem, '4level', LINEAR, DATA, { leafFlags: 0x27 });
    enterPaging(s.port, '4level', t.cr3);
    assert.ok(s.port.translate(LINEAR, 0, false, false) >= 0);
    const walks = s.instance.vmm.translator.walks;
    assert.ok(s.port.translate(LINEAR, 1, false, false) >= 0);
    assert.equal(s.instance.vmm.translator.walks, walks + 1);
    assert.equal(s.vm.mem.readU(leafGpa(t.tables, '4level'), 4) & 0x40, 0x40, 'guest PTE.D set by the walk');
  });

  // The shrunk reproducers of the deep run, through the differential harness itself.
  const SEEDS: { seed: number; ops: number[] }[] = [
    { seed: 1448, ops: [0, 1] },
    { seed: 1148, ops: [1, 2, 4] },
  ];
  for (const { seed, ops } of SEEDS) {
    for (const cfg of EPTS) {
      it(`generated seed ${seed} (ops ${ops.join(', ')}), ${cfg.label}: identical trace`, () => {
        const p = generateProgram(seed);
        const kept = p.ops.filter((o) => ops.includes(o.id));
        assert.equal(kept.length, ops.length);
        const program = assembleOk(renderProgram(p, kept));
        const pages = digestPages(p.format);
        const native = runTrace(program, { label: 'native', mode: 'native' }, pages);
        const nested = runTrace(program, { label: cfg.label, mode: 'nested', modeOptions: { nested: cfg.nested } }, pages);
        assert.equal(firstDifference(native, nested)?.text, undefined);
      });
    }
  }
});
