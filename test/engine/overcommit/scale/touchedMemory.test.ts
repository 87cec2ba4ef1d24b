// Issue 6 item 8, structurally: the simulator's memory follows the pages the guests touch, not
// the memory they were given. The benchmark (bench/overcommit.ts) measures bytes; these tests
// check the counts behind them on the benchmark's own guest (bench/manyPagesGuest.ts): each VM's
// p2m backs exactly the pages its guest touched, and the sparse machine memory holds bytes only
// for frames someone wrote — the guests' written pages and the mode's tables — never for pages
// only read (zero pages) nor for the rest of a 1 GiB VM. Then the same guest on a machine
// smaller than what it touches: reclamation happens and every page still reads back as written.
import * as assert from 'node:assert/strict';
import { startMachine } from '../../../../src/engine/machineRunner';
import type { MachineInput } from '../../../../src/engine/machineRunner';
import { assembleText } from '../../../../src/engine/isa/assembler/assembler';
import { P2mGuestMemory } from '../../../../src/engine/vmm/p2m';
import type { VirtualMode } from '../../../../src/engine/vmm/virtualVm';
import { auditMachine } from '../../../../src/engine/vmm/audit';
import { DATA_BASE, manyPagesGuestSource, touchedGuestPages, writtenGuestPages } from '../../../../bench/manyPagesGuest';

const GiB = 2 ** 30;
const PAGE = 4096;

function input(mode: VirtualMode, vms: number, pages: number, machineBytes: number): MachineInput {
  return {
    memoryBytes: machineBytes,
    quantum: 10_000,
    maxSteps: 50_000_000,
    vms: Array.from({ length: vms }, (_, i) => {
      const prog = assembleText(manyPagesGuestSource({ pages, tag: i + 1 }), `scale-${i}.s`);
      if (!prog.ok) throw new Error(prog.diagnostics.map((d) => d.message).join('\n'));
      return { name: `vm${i + 1}`, mode, program: prog, memoryBytes: GiB };
    }),
  };
}

function run(inp: MachineInput): ReturnType<typeof startMachine> {
  const started = startMachine(inp);
  const { machine } = started;
  while (!machine.stopped && machine.icount < inp.maxSteps) machine.run(1_000_000);
  return started;
}

/** What the guest leaves in data page i of VM `tag` (first qword; the rest of the page is zeros). */
function expectedFirstQword(i: number, tag: number): bigint {
  if (i % 4 < 2) return 0n;
  return i % 4 === 2 ? BigInt(i) : BigInt(i) | (BigInt(tag) << 32n);
}

function firstQword(mem: P2mGuestMemory, gpa: number): bigint {
  return BigInt(mem.read32(gpa)) | (BigInt(mem.read32(gpa + 4)) << 32n);
}

describe('scale: simulator memory follows touched pages (bench guest)', () => {
  describe('the written-page count of the guest', () => {
    for (const pages of [1, 2, 3, 4, 5, 7, 512, 513, 1000]) {
      it(`${pages} pages: pages with i mod 4 ∈ {2, 3} plus the tables and the code`, () => {
        let data = 0;
        for (let i = 0; i < pages; i++) if (i % 4 >= 2) data++;
        assert.equal(writtenGuestPages({ pages }), data + Math.ceil(pages / 512) + 4);
        assert.equal(touchedGuestPages({ pages }), pages + Math.ceil(pages / 512) + 4);
      });
    }
  });

  // 4 VMs of 1 GiB on 2 GiB: overcommitted on paper (the memory scheduler runs), not in use.
  for (const mode of ['nested', 'shadow'] as const) {
    for (const pages of [256, 1024]) {
      it(`${mode}, 4 × 1 GiB VMs touching ${pages} pages each: p2m and machine bytes hold only what was touched / written`, () => {
        const { machine, vms } = run(input(mode, 4, pages, 2 * GiB));
        assert.ok(machine.overcommit, 'the memory scheduler is on (Σ VM memory > machine memory)');
        const census = machine.memory.frames.census();
        let tables = 0;
        for (const counts of census.byOwner.values()) tables += counts.ept + counts['shadow-pt'];
        for (const { vm, name } of vms) {
          assert.equal(vm.devices.exitCode, 0, `${name} exit status`);
          const p2m = machine.partsOf(vm)!.p2m;
          assert.equal(p2m.backedPages + p2m.pagesIn('swapped'), touchedGuestPages({ pages }), `${name}: pages with a frame or a slot = pages the guest touched`);
          assert.equal(p2m.pagesIn('unbacked'), p2m.pages - touchedGuestPages({ pages }), `${name}: the rest of its 1 GiB was never backed`);
        }
        // Bytes exist for every written guest page and every table of the mode, and nothing else —
        // give or take what sharing moved (the scanner runs at ESX's rates): a shared page's own
        // frame is freed with its bytes kept (frames are never dropped), and the next page to get
        // it may only read it, or may write it instead of a fresh one. One frame per page shared.
        const shares = vms.reduce((n, { vm }) => n + machine.partsOf(vm)!.p2m.counters.shares, 0);
        const exact = vms.length * writtenGuestPages({ pages }) + tables;
        const held = machine.memory.bytes.touchedFrames;
        assert.ok(Math.abs(held - exact) <= shares, `${held} frames hold bytes: ${exact} written pages and tables, ${shares} pages shared`);
        assert.ok(shares <= 64, `${shares} pages shared: the bound above stays tight`);
        assert.deepEqual(auditMachine(machine), []);
      });
    }
  }

  it('doubling the touched pages doubles the bytes held for them', () => {
    const held = (pages: number): number => {
      const { machine } = run(input('nested', 2, pages, 2 * GiB));
      const census = machine.memory.frames.census();
      let ept = 0;
      for (const c of census.byOwner.values()) ept += c.ept;
      return machine.memory.bytes.touchedFrames - ept;
    };
    const a = held(1024);
    const b = held(2048);
    assert.equal(a, 2 * writtenGuestPages({ pages: 1024 }));
    assert.equal(b, 2 * writtenGuestPages({ pages: 2048 }));
    assert.ok(b - a === 2 * (writtenGuestPages({ pages: 2048 }) - writtenGuestPages({ pages: 1024 })));
  });

  for (const mode of ['nested', 'shadow'] as const) {
    it(`${mode}: 4 VMs touching 2× the machine's memory run to the end, reclaimed, every page reading back as written`, () => {
      const pages = 2048;
      // Touched: 4 × 2,056 pages ≈ 32 MiB on a 16 MiB machine.
      const { machine, vms } = run(input(mode, 4, pages, 16 * 2 ** 20));
      const snap = machine.overcommit!.snapshot();
      assert.ok(snap.swap.swappedOut > 0, 'the hypervisor swapped (the unique quarter can only be swapped)');
      for (const [k, { vm, name }] of vms.entries()) {
        assert.equal(vm.devices.exitCode, 0, `${name} exit status`);
        const mem = new P2mGuestMemory(machine.partsOf(vm)!.p2m);
        for (let i = 0; i < pages; i += 7) {
          assert.equal(firstQword(mem, DATA_BASE + i * PAGE), expectedFirstQword(i, k + 1), `${name} data page ${i}`);
        }
      }
      assert.deepEqual(auditMachine(machine), []);
      assert.deepEqual(machine.overcommit!.scanner?.audit() ?? [], []);
    });
  }
});
