// End to end on a real machine: two VMs running the same guest under shadow paging and under
// nested paging share their code, data and zero pages; a write breaks copy-on-write; a write in
// one VM never shows in the other; the MMU audit and the table's own audit stay clean while the
// scanner runs interleaved with the guests.
import { strict as assert } from 'node:assert';
import { assembleOk, PAGING32_MACROS } from '../../../support/runAsm';
import { Machine } from '../../../../src/engine/machine/machine';
import { createVirtualVm } from '../../../../src/engine/vmm/virtualVm';
import type { VirtualMode, VirtualVm } from '../../../../src/engine/vmm/virtualVm';
import { P2mGuestMemory } from '../../../../src/engine/vmm/p2m';
import { auditMachine } from '../../../../src/engine/vmm/audit';
import { availableModes } from '../../../../src/engine/vmm/modes';
import { MachineSharingHost } from '../../../../src/engine/memory/overcommit/sharing/machineSharingHost';
import { SharingScanner } from '../../../../src/engine/memory/overcommit/sharing/scanner';
import type { EngineEvent } from '../../../../src/engine/events';

const MiB = 2 ** 20;
const DATA = 0x200; // 8 identical data pages (ppn)
const ZERO = 0x300; // 16 pages the guest writes zeros to
const ID = 0x3f0; // one byte the test sets differently in each VM
const PD = 0x10; // the guest's page directory and page table (identity_map32)
const PT = 0x11;
const CODE = 0x1;

/**
 * Fills the data pages with a pattern (the same in every VM), touches the zero pages, spins
 * (the scanner shares meanwhile), then writes its VM id into the first data page (copy-on-write)
 * and prints it with the first qword of data page 1 (still shared: a read).
 */
const GUEST = `${PAGING32_MACROS}
.org 0x1000
_start:
    mov rsp, 0x9000
    identity_map32
    enable_paging32
    mov rcx, 0
.fill:
    mov rax, rcx
    shl rax, 32
    or rax, rcx
    mov qword [0x200000 + rcx*8], rax
    inc rcx
    cmp rcx, 4096
    jne .fill
    mov rcx, 0
.zero:
    mov rax, rcx
    shl rax, 12
    mov qword [0x300000 + rax], 0
    inc rcx
    cmp rcx, 16
    jne .zero
    mov rcx, 150000
.spin:
    dec rcx
    jnz .spin
    mov al, byte [0x3f0000]
    mov byte [0x200000], al
    add al, 48
    out 0xe9, al
    mov rax, qword [0x201000]
    mov rbx, 0x0000020000000200
    cmp rax, rbx
    jne .bad
    mov al, 'k'
    out 0xe9, al
    cli
    hlt
.bad:
    mov al, '!'
    out 0xe9, al
    cli
    hlt
`;

interface World {
  machine: Machine;
  vms: VirtualVm[];
  scanner: SharingScanner;
  events: EngineEvent[];
}

function world(mode: VirtualMode): World {
  const prog = assembleOk(GUEST);
  const machine = new Machine({ memoryBytes: 64 * MiB, quantum: 5000 });
  const vms = [1, 2].map((id) => {
    const v = createVirtualVm(machine, mode, { memoryBytes: 8 * MiB });
    v.vm.load(prog.segments, prog.entry ?? 0x1000);
    new P2mGuestMemory(v.p2m).write8(ID * 4096, id);
    return v;
  });
  const events: EngineEvent[] = [];
  for (const v of vms) {
    v.vm.bus.on('page-shared', (e) => events.push(e));
    v.vm.bus.on('cow-break', (e) => events.push(e));
  }
  const scanner = new SharingScanner(new MachineSharingHost(machine), { seed: 17 });
  return { machine, vms, scanner, events };
}

/** Runs until both guests are in their spin loop (the last zero page backed). */
function runToSpin(w: World): void {
  for (let i = 0; i < 100 && !w.vms.every((v) => v.p2m.stateOf(ZERO + 15) !== 'unbacked'); i++) w.machine.run(10_000);
  for (const v of w.vms) assert.ok(!v.vm.stopped && v.p2m.stateOf(ZERO + 15) === 'private', 'the guest reached its spin loop');
}

function clean(w: World, when: string): void {
  assert.deepEqual(auditMachine(w.machine), [], `MMU audit ${when}`);
  assert.deepEqual(w.scanner.audit(), [], `sharing table audit ${when}`);
}

const modes = (): VirtualMode[] => availableModes().filter((m): m is VirtualMode => m === 'shadow' || m === 'nested');

describe('sharing: identical VMs on one machine', () => {
  for (const mode of modes()) {
    describe(mode, () => {
      it('share code, data and zero pages; writes break copy-on-write; neither VM sees the other\'s write', () => {
        const w = world(mode);
        runToSpin(w);
        const [a, b] = w.vms;
        w.scanner.fullScan();
        clean(w, 'after the scan');

        // Identical pages: one frame for both VMs.
        for (const ppn of [CODE, ...Array.from({ length: 8 }, (_, i) => DATA + i)]) {
          assert.equal(a.p2m.stateOf(ppn), 'shared', `ppn 0x${ppn.toString(16)} in VM a`);
          assert.equal(a.p2m.lookup(ppn), b.p2m.lookup(ppn), `ppn 0x${ppn.toString(16)}: one frame`);
        }
        // Zero pages: the one zero frame.
        const zero = w.scanner.table.zeroFrame;
        assert.ok(zero >= 0);
        for (const v of w.vms) for (let i = 0; i < 16; i++) assert.equal(v.p2m.lookup(ZERO + i), zero);
        // The VM id pages differ: hints, still private.
        for (const v of w.vms) assert.equal(v.p2m.stateOf(ID), 'private');
        // Guest page tables: traced by the shadow MMU, so never shared there; EPT keeps no such
        // distinction (the VMM does not know them) and shares them like any page.
        for (const ppn of [PD, PT]) assert.equal(a.p2m.stateOf(ppn), mode === 'shadow' ? 'private' : 'shared', `guest PT 0x${ppn.toString(16)}`);

        const st = w.scanner.stats();
        assert.ok(st.zeroPages >= 32, `zero pages ${st.zeroPages}`);
        assert.ok(st.pagesSharing >= 9 + 31, `pages saved ${st.pagesSharing}`);
        assert.equal(st.pagesSharing, st.savedPages);
        const sharedEvents = w.events.filter((e) => e.kind === 'page-shared');
        assert.ok(sharedEvents.length >= 2 * 9 + 32, `${sharedEvents.length} page-shared events`);
        assert.ok(sharedEvents.some((e) => e.kind === 'page-shared' && e.zero));

        // Run to the end: each VM writes its id into data page 0.
        const before = a.p2m.lookup(DATA);
        while (!w.machine.stopped) w.machine.run(50_000);
        assert.equal(a.vm.devices.console, '1k');
        assert.equal(b.vm.devices.console, '2k');
        const ga = new P2mGuestMemory(a.p2m);
        const gb = new P2mGuestMemory(b.p2m);
        assert.equal(ga.read8(DATA * 4096), 1, 'VM a sees its own write');
        assert.equal(gb.read8(DATA * 4096), 2, 'VM b sees its own write, not a\'s');
        assert.equal(a.p2m.stateOf(DATA), 'private');
        assert.equal(b.p2m.stateOf(DATA), 'private');
        assert.ok(a.p2m.lookup(DATA) !== b.p2m.lookup(DATA));
        assert.ok([a.p2m.lookup(DATA), b.p2m.lookup(DATA)].includes(before), 'the last writer kept the frame (no copy)');
        // Data page 1 was only read: still shared.
        assert.equal(a.p2m.lookup(DATA + 1), b.p2m.lookup(DATA + 1));
        assert.equal(a.p2m.stateOf(DATA + 1), 'shared');
        const breaks = w.events.filter((e) => e.kind === 'cow-break');
        assert.ok(breaks.length >= 2, `${breaks.length} COW breaks`);
        assert.ok(w.scanner.stats().cowBreaks >= 2);
        clean(w, 'at the end');
      });

      it('scanning interleaved with both guests running keeps every audit clean and the output exact', () => {
        const w = world(mode);
        // A fast scan (the experiments' setting): 400 pages every 2,000 instructions.
        let slices = 0;
        while (!w.machine.stopped && slices < 2000) {
          w.machine.run(2000);
          w.scanner.scan(400);
          if (slices++ % 80 === 0) clean(w, `at slice ${slices}`);
        }
        assert.ok(w.machine.stopped);
        assert.equal(w.vms[0].vm.devices.console, '1k');
        assert.equal(w.vms[1].vm.devices.console, '2k');
        const st = w.scanner.stats();
        assert.ok(st.pagesShared > 0 && st.zeroPages > 0, JSON.stringify(st));
        assert.ok(st.fullScans >= 1);
        clean(w, 'at the end');
      });

      it('share before swap: a page identical to the other VM\'s is shared, not swapped', () => {
        const w = world(mode);
        runToSpin(w);
        const [a, b] = w.vms;
        assert.equal(w.scanner.offer(99, DATA + 3), false, 'no such VM');
        const aId = w.machine.partsOf(a.vm)!.vmId;
        const bId = w.machine.partsOf(b.vm)!.vmId;
        assert.equal(w.scanner.offer(aId, DATA + 3), false, 'first of its kind: a hint; the swapper writes it out');
        assert.equal(w.scanner.offer(bId, DATA + 3), true, 'its twin: shared, nothing to write');
        assert.equal(a.p2m.lookup(DATA + 3), b.p2m.lookup(DATA + 3));
        clean(w, 'after the offers');
      });
    });
  }
});
