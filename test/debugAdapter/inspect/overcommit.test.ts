// `vmem/overcommit`: the memory scheduler's snapshot made JSON-safe (ρ = ∞ → null), taken from a
// real overcommitted machine (test/webview/overcommitMachine.ts: a busy and an idle VM on less
// memory than they touch) and through the debug adapter; `enabled: false` with the reason in
// native mode and on a machine without a scheduler.
import * as assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMachine } from '../../../src/engine/machineRunner';
import { createInspectTarget } from '../../../src/debugAdapter/inspect/target';
import { NATIVE_WHY, NO_SCHEDULER_WHY, overcommitPayload, overcommitWire, rhoWire } from '../../../src/debugAdapter/inspect/overcommit';
import type { OvercommitSnapshot } from '../../../src/engine/memory/overcommit/overcommitSnapshot';
import type { OvercommitResponseWire, OvercommitWire } from '../../../src/debugAdapter/viewsProtocol';
import { EXAMPLES, startAsm } from '../../support/runAsm';
import { adapterPerTest } from '../adapterHarness';
import { FAST_MEMSCHED, GUEST_PAGES, MACHINE_PAGES, VM_BYTES, guestSource, overcommittedInput, runOvercommitted } from '../../webview/overcommitMachine';

const PAGE = 4096;
const pressured = (steps: number): ReturnType<typeof startMachine> => runOvercommitted(steps);

describe('vmem/overcommit payload', function () {
  this.timeout(120_000);

  it('encodes ρ = ∞ as null and keeps finite ρ; NaN never reaches the wire', () => {
    const table: [number, number | null][] = [[0.25, 0.25], [0, 0], [Infinity, null], [-Infinity, null], [NaN, null], [1e-9, 1e-9]];
    for (const [rho, want] of table) assert.equal(rhoWire(rho), want, String(rho));
  });

  it('reads a real overcommitted machine: every VM, pages by state summing to its memory, a history, JSON-safe', () => {
    const { machine, vms } = pressured(2_000_000);
    const t = createInspectTarget(machine, vms.map((v) => ({ vm: v.vm, name: v.name })));
    const body = overcommitPayload(t);
    assert.equal(body.enabled, true);
    const w = body as OvercommitWire;
    assert.deepEqual(w.vms.map((v) => v.name), ['busy', 'idle']);
    for (const v of w.vms) {
      const p = v.pages;
      assert.equal(p.unbacked + p.private + p.shared + p.ballooned + p.swapped, VM_BYTES / PAGE, `${v.name}: every guest page in one state`);
      assert.ok(p.private + p.shared + p.swapped >= GUEST_PAGES, `${v.name}: the pages it wrote are resident or swapped`);
      assert.match(String(v.balloon?.whyNot), /no balloon driver/, `${v.name}: a balloon device without a driver says why it cannot reclaim`);
      assert.ok(v.rho === null || (Number.isFinite(v.rho) && v.rho >= 0), `${v.name}: ρ ${v.rho}`);
    }
    assert.ok(w.rebalances > 0 && w.history.length > 0, `rebalanced: ${w.rebalances}`);
    assert.ok(w.history.length <= w.rebalances);
    assert.ok(w.history.every((s, i) => i === 0 || s.t > w.history[i - 1].t), 'history oldest first');
    assert.equal(w.totalPages, MACHINE_PAGES);
    assert.equal(w.freePages, machine.memory.frames.free);
    assert.ok(w.seconds > 0);
    // What the client parses is what was built: no Infinity or undefined lost on the way.
    assert.deepEqual(JSON.parse(JSON.stringify(w)), w);
  });

  it('copies the snapshot: later rebalances do not change a payload already built', () => {
    const { machine } = pressured(1_000_000);
    const snap: OvercommitSnapshot = machine.overcommit!.snapshot();
    const w = overcommitWire(snap);
    const before = JSON.stringify(w);
    machine.run(1_000_000);
    assert.equal(JSON.stringify(w), before);
    assert.notEqual(JSON.stringify(overcommitWire(machine.overcommit!.snapshot())), before, 'the machine moved on');
  });

  it('turns an infinite ρ in the engine snapshot into null, in the VMs and in the history', () => {
    const { machine } = pressured(500_000);
    const snap = machine.overcommit!.snapshot();
    const vmId = snap.vms[0].vmId;
    const forged: OvercommitSnapshot = {
      ...snap,
      vms: snap.vms.map((v) => (v.vmId === vmId ? { ...v, rho: Infinity } : v)),
      history: snap.history.map((s) => ({ ...s, vms: s.vms.map((v) => (v.vmId === vmId ? { ...v, rho: Infinity } : v)) })),
    };
    const w = JSON.parse(JSON.stringify(overcommitWire(forged))) as OvercommitWire;
    assert.equal(w.vms[0].rho, null);
    assert.ok(w.history.length > 0 && w.history.every((s) => s.vms.find((v) => v.vmId === vmId)?.rho === null));
    assert.ok(w.vms.slice(1).every((v) => typeof v.rho === 'number'));
  });

  it('says why there is nothing to show: native mode, and a machine without a scheduler', () => {
    const { vm } = startAsm('hlt', { mode: 'native' });
    assert.deepEqual(overcommitPayload(createInspectTarget(null, [{ vm }])), { enabled: false, why: NATIVE_WHY });
    const { machine, vms } = startMachine(overcommittedInput(false, 4096));
    assert.equal(machine.overcommit, null);
    assert.deepEqual(overcommitPayload(createInspectTarget(machine, vms.map((v) => ({ vm: v.vm })))), { enabled: false, why: NO_SCHEDULER_WHY });
  });
});

describe('vmem/overcommit through the debug adapter', function () {
  this.timeout(60_000);
  const h = adapterPerTest();

  async function launch(program: string, extra: Record<string, unknown> = {}): Promise<void> {
    await Promise.all([
      h.dc.waitForEvent('initialized').then(() => h.dc.configurationDoneRequest()),
      h.dc.initializeRequest({ adapterID: 'vmem', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' }),
      h.dc.launchRequest({ program, stopOnEntry: true, ...extra } as never),
      h.dc.waitForEvent('stopped'),
    ]);
  }

  async function overcommit(): Promise<OvercommitResponseWire> {
    return (await h.dc.customRequest('vmem/overcommit', {})).body as OvercommitResponseWire;
  }

  it('answers the scheduler of an overcommitted scenario, and its history after running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmem-oc-'));
    writeFileSync(join(dir, 'busy.s'), guestSource(GUEST_PAGES, false));
    writeFileSync(join(dir, 'idle.s'), guestSource(GUEST_PAGES, true));
    const scenario = join(dir, 'oc.json');
    // 6 MiB of machine memory for two 4 MiB guests that touch ~2.8 MiB each.
    writeFileSync(scenario, JSON.stringify({
      machine: { memoryMiB: 6, quantum: 3000, memsched: FAST_MEMSCHED },
      vms: [
        { name: 'busy', program: 'busy.s', mode: 'shadow', memoryMiB: 4 },
        { name: 'idle', program: 'idle.s', mode: 'nested', memoryMiB: 4 },
      ],
    }));
    await launch(scenario);
    const first = await overcommit();
    assert.equal(first.enabled, true, JSON.stringify(first));
    const w0 = first as OvercommitWire;
    assert.deepEqual(w0.vms.map((v) => v.name), ['busy', 'idle']);
    assert.equal(w0.totalPages, (6 * 2 ** 20) / PAGE);
    assert.equal(w0.rebalances, 0, 'stopped on entry: no rebalance yet');
    // Run on: pause after a while, and the scheduler has rebalanced.
    await h.dc.continueRequest({ threadId: 1 });
    await new Promise((r) => setTimeout(r, 1500));
    await Promise.all([h.dc.pauseRequest({ threadId: 1 }), h.dc.waitForEvent('stopped')]);
    const later = (await overcommit()) as OvercommitWire;
    assert.ok(later.seconds > w0.seconds, `time went on: ${w0.seconds} → ${later.seconds}`);
    assert.ok(later.history.length > 0, `history after ${later.seconds} s: ${later.rebalances} rebalances`);
  });

  it('answers enabled: false for a native program', async () => {
    await launch(join(EXAMPLES, 'hello.s'), { mode: 'native' });
    assert.deepEqual(await overcommit(), { enabled: false, why: NATIVE_WHY });
  });
});
