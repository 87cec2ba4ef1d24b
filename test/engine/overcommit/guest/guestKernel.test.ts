// The teaching kernel's balloon driver and swapper, run for real (examples/balloon.s and
// guest-swap.s with defines): each failure mode on the console and in the device state the VMM
// sees; the VMM's frames really go and come back; the swapper's pages survive round trips in
// every mode; and a VMM swapping under the guest's swapper makes double paging.
import { strict as assert } from 'node:assert';
import { runStarted, startProgram } from '../../../../src/engine/runner';
import type { RunOptions, RunSummary, StartedProgram } from '../../../../src/engine/runner';
import type { MemoryMode } from '../../../../src/engine/vm';
import type { EngineEvent } from '../../../../src/engine/events';
import type { TargetStep } from '../../../../src/engine/memory/overcommit/balloon/balloonDevice';
import { assembleExample } from '../../../support/runAsm';

const SCHEDULE: TargetStep[] = [{ at: 0, pages: 300 }, { at: 2.5, pages: 100 }];
/** Long enough for three polls: 256 in, 44 in (the rate limit), 200 out. */
const LONG = { SPIN: 1_700_000 };

function start(file: string, mode: MemoryMode, defines: Record<string, number>, options: RunOptions = {}): StartedProgram {
  const d = Object.fromEntries(Object.entries(defines).map(([k, v]) => [k, BigInt(v)]));
  return startProgram(assembleExample(file, d), { mode, maxSteps: 20_000_000, audit: true, auditEvery: 50_000, ...options });
}

function run(file: string, mode: MemoryMode, defines: Record<string, number>, options: RunOptions = {}): { s: RunSummary; p: StartedProgram; events: EngineEvent[] } {
  const p = start(file, mode, defines, options);
  const events: EngineEvent[] = [];
  const s = runStarted(p, { maxSteps: 20_000_000, audit: mode !== 'native', auditEvery: 50_000, trace: (e) => { if (e.kind === 'balloon' || e.kind === 'swap-out' || e.kind === 'swap-in' || e.kind === 'double-paging') events.push(e); } });
  assert.equal(s.exit.reason, 'shutdown', s.exit.message + '\n' + s.console);
  return { s, p, events };
}

const lines = (s: RunSummary): string[] => s.console.split('\n');
const balloonLines = (s: RunSummary): string[] => lines(s).filter((l) => l.startsWith('balloon:'));

describe('balloon driver (examples/balloon.s)', function () {
  this.timeout(120_000);

  // Table: each failure mode → the driver's console lines and the device state the VMM sees.
  // SPIN shortened: 2.2 simulated seconds are enough for two polls.
  const cases: { name: string; defines: Record<string, number>; console: string[]; state: string; size: number; canDeliver: boolean; shortfall: number }[] = [
    { name: 'no driver (BALLOON=0)', defines: { BALLOON: 0 }, console: [], state: 'absent', size: 0, canDeliver: false, shortfall: 300 },
    {
      name: 'driver disabled (BALLOON_DISABLED=1)', defines: { BALLOON_DISABLED: 1 },
      console: ['balloon: driver disabled by the administrator: it will not inflate'], state: 'disabled', size: 0, canDeliver: false, shortfall: 300,
    },
    {
      name: 'not loaded at boot (BALLOON_LOAD_DELAY=2)', defines: { BALLOON_LOAD_DELAY: 2 },
      console: ['balloon: driver not loaded at boot (it loads after 2 s)', 'balloon: driver loaded, cap 332 of 512 pages'], state: 'loaded', size: 0, canDeliver: true, shortfall: 0,
    },
    {
      name: 'guest cap reached (BALLOON_MAX_PERCENT=20)', defines: { BALLOON_MAX_PERCENT: 20 },
      console: [
        'balloon: driver loaded, cap 102 of 512 pages',
        'balloon: 1 s: target 300 is over the guest\'s cap: the balloon stops at the cap',
        'balloon: 1 s: target 102, inflated 102, size 102',
      ], state: 'loaded', size: 102, canDeliver: true, shortfall: 198,
    },
    {
      name: 'working driver', defines: {},
      console: ['balloon: driver loaded, cap 332 of 512 pages', 'balloon: 1 s: target 300, inflated 256, size 256', 'balloon: 2 s: target 300, inflated 44, size 300'],
      state: 'loaded', size: 300, canDeliver: true, shortfall: 0,
    },
  ];
  for (const t of cases) {
    it(`${t.name}: console and the VMM's view`, () => {
      const { s, p } = run('balloon.s', 'native', { SPIN: 1_100_000, ...t.defines }, { devices: { balloon: { target: 300 } } });
      assert.deepEqual(balloonLines(s), t.console);
      const b = p.devices.balloon!;
      assert.deepEqual([b.driverState, b.size, b.canDeliver(), b.shortfall], [t.state, t.size, t.canDeliver, t.shortfall]);
      assert.ok(lines(s).includes('A: heap intact, sum = 528'));
    });
  }

  it('the guest sees no device when the VM has none', () => {
    const { s } = run('balloon.s', 'native', { SPIN: 10_000 }, { devices: { balloon: false } });
    assert.deepEqual(balloonLines(s), ['balloon: no balloon device: the driver gives up']);
  });

  for (const mode of ['shadow', 'nested'] as const) {
    it(`${mode}: the VMM frees the ballooned frames and gets 200 back on deflate; console equals native`, () => {
      const native = run('balloon.s', 'native', LONG, { devices: { balloon: { schedule: SCHEDULE } } });
      const { s, p, events } = run('balloon.s', mode, LONG, { devices: { balloon: { schedule: SCHEDULE } } });
      assert.equal(s.console, native.s.console);
      const p2m = p.machine!.partsOf(p.vm)!.p2m;
      assert.equal(p2m.counters.ballooned, 300);
      assert.equal(p2m.counters.deflated, 200);
      assert.equal(p2m.pagesIn('ballooned'), 100);
      assert.equal(p.devices.balloon!.size, 100);
      assert.deepEqual(events.filter((e) => e.kind === 'balloon').map((e) => e.kind === 'balloon' && [e.action, e.pages, e.size]), [
        ['target', 0, 0], ['inflate', 256, 256], ['inflate', 44, 300], ['target', 0, 300], ['deflate', 200, 100],
      ]);
    });

    it(`${mode}: a kernel write to a ballooned page pops the balloon; the driver resets and re-inflates`, () => {
      const { s, p } = run('balloon.s', mode, { ...LONG, BALLOON_TOUCH: 1 }, { devices: { balloon: { schedule: SCHEDULE } } });
      assert.deepEqual(balloonLines(s).slice(1), [
        'balloon: 1 s: target 300, inflated 256, size 256',
        'balloon: 2 s: kernel bug: wrote to a ballooned page',
        'balloon: 2 s: target 300, inflated 0, size 256', // the device refuses requests until the driver resets
        'balloon: 3 s: popped by the host (a ballooned page was touched): reset, took back 256 pages',
        'balloon: 3 s: target 100, inflated 100, size 100',
      ]);
      const p2m = p.machine!.partsOf(p.vm)!.p2m;
      assert.equal(p.devices.balloon!.counters.pops, 1);
      assert.equal(p2m.counters.pops, 1);
      assert.equal(p2m.pagesIn('ballooned'), 100);
      assert.ok(lines(s).includes('A: heap intact, sum = 528'));
    });
  }

  it('paravirtual (PV=1): the driver unmaps each page from its 1:1 map first; the same console as native', () => {
    const native = run('balloon.s', 'native', LONG, { devices: { balloon: { schedule: SCHEDULE } } });
    const { s, p } = run('balloon.s', 'paravirt', { ...LONG, PV: 1 }, { devices: { balloon: { schedule: SCHEDULE } }, audit: false });
    const strip = (c: string): string[] => c.split('\n').filter((l) => l.startsWith('balloon:') || l.startsWith('A:'));
    assert.deepEqual(strip(s.console), strip(native.s.console));
    assert.equal(p.machine!.partsOf(p.vm)!.p2m.pagesIn('ballooned'), 100);
  });
});

describe('guest swapper (examples/guest-swap.s)', function () {
  this.timeout(120_000);
  const EXPECTED = ['A: wrote 40 pages', 'A: pass 1: 40 pages intact, sum = 820', 'A: pass 2: 40 pages intact, sum = 820', 'kernel: swapped out 107 pages, swapped in 82'];

  for (const paging of [64, 32]) {
    let reference = '';
    for (const mode of ['native', 'shadow', 'nested'] as const) {
      it(`PAGING=${paging} ${mode}: pages go out and come back intact; the disk charged the waits`, () => {
        const { s, p, events } = run('guest-swap.s', mode, { PAGING: paging });
        for (const l of EXPECTED) assert.ok(lines(s).includes(l), `missing '${l}'\n${s.console}`);
        if (mode === 'native') reference = s.console;
        else assert.equal(s.console, reference, 'console differs from native');
        const disk = p.devices.disk!;
        assert.deepEqual([disk.counters.writes, disk.counters.reads], [107, 82]);
        assert.equal(disk.counters.stallCycles, 189 * 10_000);
        const stalled = p.machine ? p.machine.stallCycles(p.vm) : p.devices.nativeStalls!.cycles;
        assert.equal(stalled, 189 * 10_000);
        assert.equal(events.filter((e) => e.kind === 'swap-out' && e.by === 'guest').length, 107);
        assert.equal(events.filter((e) => e.kind === 'swap-in' && e.by === 'guest').length, 82);
      });
    }
  }

  for (const mode of ['shadow', 'nested'] as const) {
    it(`${mode}: a VMM swapping the VM's pages under the guest's swapper causes double paging, and the data survives`, () => {
      const p = start('guest-swap.s', mode, {});
      const p2m = p.machine!.partsOf(p.vm)!.p2m;
      const events: EngineEvent[] = [];
      p.vm.bus.on('double-paging', (e) => events.push(e));
      // The hypervisor swaps out every resident page of the frame pool (0x200000..) every 2000
      // instructions: the guest's next victims are then often already on the VMM's swap file.
      while (!p.vm.stopped && p.vm.icount < 2_000_000) {
        p.vm.run(2000);
        for (const [ppn] of p2m.entries()) if (ppn >= 0x200 && ppn < 0x210) p2m.swapOut(ppn);
      }
      const s = runStarted(p, { maxSteps: 2_000_000 });
      for (const l of EXPECTED.slice(0, 3)) assert.ok(lines(s).includes(l), `missing '${l}'\n${s.console}`);
      assert.ok(p2m.counters.doublePaging > 0, 'no double paging');
      assert.equal(events.length, p2m.counters.doublePaging);
    });
  }
});
