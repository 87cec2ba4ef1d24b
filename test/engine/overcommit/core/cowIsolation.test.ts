// Copy-on-write in each mode, with two VMs running the same guest on one machine: every page the
// two have in common (same ppn, same contents) is shared across the VMs mid-run; the guests go
// on writing. Each must print exactly what it prints natively (a write never shows in the other
// VM: isolation), COW breaks must happen, and the audit holds throughout — refcounts equal the
// p2m entries of both VMs, no writable spte / EPT leaf / TLB entry of a shared frame.
import { strict as assert } from 'node:assert';
import { Machine } from '../../../../src/engine/machine/machine';
import { createVirtualVm } from '../../../../src/engine/vmm/virtualVm';
import type { VirtualVm } from '../../../../src/engine/vmm/virtualVm';
import { auditMachine } from '../../../../src/engine/vmm/audit';
import { P2mGuestMemory } from '../../../../src/engine/vmm/p2m';
import { asShadowInstance } from '../../../../src/engine/vmm/shadow/shadowMode';
import { SPTE_W } from '../../../../src/engine/vmm/shadow/spteFormat';
import type { NestedInstance } from '../../../../src/engine/vmm/nested/nestedMode';
import { runNative } from './reclaimFuzz';
import { assembleExample } from '../../../support/runAsm';

const PAGE = 4096;

function twoVms(mode: 'shadow' | 'nested', file: string): { machine: Machine; a: VirtualVm; b: VirtualVm } {
  const program = assembleExample(file);
  const machine = new Machine({ memoryBytes: 64 * 1024 * 1024, quantum: 2_000 });
  const mk = (): VirtualVm => {
    const v = createVirtualVm(machine, mode, { memoryBytes: 16 * 1024 * 1024 });
    v.vm.load(program.segments, program.entry ?? program.segments[0].address);
    return v;
  };
  return { machine, a: mk(), b: mk() };
}

/** Shares every ppn the two VMs back privately with equal contents; returns how many. */
function shareCommon(a: VirtualVm, b: VirtualVm): number {
  const bytes = a.p2m.machine.bytes;
  let n = 0;
  for (const [ppn, ma] of a.p2m.entries()) {
    if (a.p2m.stateOf(ppn) !== 'private' || b.p2m.stateOf(ppn) !== 'private') continue;
    const mb = b.p2m.lookup(ppn);
    const x = bytes.readBytes(ma * PAGE, PAGE);
    const y = bytes.readBytes(mb * PAGE, PAGE);
    if (!x.every((v, i) => v === y[i])) continue;
    if (a.p2m.whyNot(ppn, 'share') !== null || b.p2m.whyNot(ppn, 'share') !== null) continue;
    const mpn = a.p2m.shareInPlace(ppn);
    assert.ok(b.p2m.shareWith(ppn, mpn), b.p2m.lastRefusal);
    n++;
  }
  return n;
}

describe('overcommit core: COW across two VMs (isolation), audit on', function () {
  this.timeout(120_000);
  for (const mode of ['shadow', 'nested'] as const) {
    for (const file of ['demand-paging.s', 'two-processes.s']) {
      it(`${mode}: ${file} twice, sharing mid-run: both print native's output, COW breaks, audit clean`, () => {
        const native = runNative(assembleExample(file), 5_000_000);
        const { machine, a, b } = twoVms(mode, file);
        let shared = 0;
        let rounds = 0;
        while (!machine.stopped && rounds < 5_000) {
          machine.run(500);
          rounds++;
          if (rounds % 4 === 0) shared += shareCommon(a, b);
          const v = auditMachine(machine);
          assert.deepEqual(v, [], `after round ${rounds}`);
        }
        assert.ok(machine.stopped, 'both VMs ran to the end');
        assert.ok(shared > 0, 'pages were shared');
        assert.ok(a.p2m.counters.cowBreaks + b.p2m.counters.cowBreaks > 0, 'writes broke sharing');
        for (const v of [a, b]) {
          v.vm.devices.flushLine();
          assert.equal(v.vm.devices.console, native.console);
          assert.equal(v.vm.devices.exitCode ?? null, native.exit.status);
        }
      });
    }

    it(`${mode}: a write by one VM to a shared page never shows in the other, and goes through a read-only mapping first`, () => {
      const { machine, a, b } = twoVms(mode, 'demand-paging.s');
      machine.run(20_000);
      assert.ok(shareCommon(a, b) > 0);
      // Map every shared page read-only in the modes' structures: let both VMs run a little.
      machine.run(2_000);
      assert.deepEqual(auditMachine(machine), []);
      const ppn = a.p2m.entries().find(([p]) => a.p2m.stateOf(p) === 'shared' && b.p2m.stateOf(p) === 'shared')![0];
      const mpn = a.p2m.lookup(ppn);
      const before = new P2mGuestMemory(b.p2m).read32(ppn * PAGE + 16);
      new P2mGuestMemory(a.p2m).write32(ppn * PAGE + 16, (before ^ 0xdeadbeef) >>> 0);
      assert.equal(a.p2m.stateOf(ppn), 'private');
      assert.equal(new P2mGuestMemory(a.p2m).read32(ppn * PAGE + 16), (before ^ 0xdeadbeef) >>> 0);
      assert.equal(new P2mGuestMemory(b.p2m).read32(ppn * PAGE + 16), before);
      assert.equal(b.p2m.lookup(ppn), mpn);
      // No structure of either VM maps the shared frame writably.
      for (const v of [a, b]) {
        const sh = asShadowInstance(v.instance);
        if (sh) {
          for (const id of sh.tables.rmap.get(ppn) ?? []) {
            const sp = sh.tables.byMpn.get(Math.floor(id / PAGE))!;
            const { lo } = sh.tables.readSpte(sp, id % PAGE);
            if (v.p2m.stateOf(ppn) === 'shared') assert.equal(lo & SPTE_W, 0);
          }
        } else {
          const leaf = (v.instance as NestedInstance).vmm.ept.leaf(ppn * PAGE);
          if (leaf && v.p2m.stateOf(ppn) === 'shared') assert.equal(leaf.lo & 2, 0);
        }
      }
      assert.deepEqual(auditMachine(machine), []);
    });
  }
});
