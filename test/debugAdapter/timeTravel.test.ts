// Time travel in the runtime: stepping back restores registers, memory, TLB counters and the
// console exactly — compared as full fingerprints with the state reached forward (the same
// timeline, and a fresh run to the same instruction count), in native, shadow and nested.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { VmemRuntime } from '../../src/debugAdapter/runtime/runtime';
import type { StopInfo } from '../../src/debugAdapter/runtime/runtime';
import { parseLaunchConfig } from '../../src/debugAdapter/runtime/launchConfig';
import { buildTarget } from '../../src/debugAdapter/runtime/target';
import { StateSnapshot } from '../../src/engine/stateSnapshot';
import { ROOT } from './adapterHarness';

const PROGRAM = join(ROOT, 'examples/demand-paging.s');

function launch(mode: string, extra: Record<string, unknown> = {}): VmemRuntime {
  const cfg = parseLaunchConfig({ program: PROGRAM, mode, stopOnEntry: true, ...extra }, (p) => p, existsSync);
  return new VmemRuntime(buildTarget(cfg), cfg);
}

function next(rt: VmemRuntime, act: () => void): Promise<StopInfo> {
  return new Promise((ok, fail) => {
    const ended = (): void => fail(new Error('terminated'));
    rt.once('stopped', (s: StopInfo) => {
      rt.off('terminated', ended);
      ok(s);
    });
    rt.once('terminated', ended);
    act();
  });
}

/** Everything observable: registers of every vCPU, a hash of all memory, TLB counters, console. */
function fingerprint(rt: VmemRuntime): string {
  const parts: unknown[] = [rt.target.icount];
  for (const d of rt.target.vms) {
    for (const c of d.vm.vcpus) parts.push(c.snapshot(), c.state);
    parts.push(d.vm.tlbCounters, d.vm.tlbs.map((t) => t.counters()), d.vm.devices.console);
    const h = createHash('sha256');
    for (const f of d.space.cpuMemory.allFrames()) {
      h.update(String(f.number));
      h.update(f.data);
    }
    parts.push(h.digest('hex'));
  }
  return JSON.stringify(parts, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v));
}

for (const mode of ['native', 'shadow', 'nested']) {
  describe(`time travel (${mode})`, function () {
    this.timeout(60_000);

    it('steps back instruction by instruction to exactly the states stepped through forward', async () => {
      const rt = launch(mode);
      await next(rt, () => rt.start(true));
      const forward = [fingerprint(rt)];
      for (let i = 0; i < 40; i++) {
        await next(rt, () => rt.stepThread(1, 'in', true));
        forward.push(fingerprint(rt));
      }
      for (let i = forward.length - 2; i >= 0; i--) {
        const s = await next(rt, () => rt.stepBack(1, true));
        assert.equal(fingerprint(rt), forward[i], `state ${i} after stepping back`);
        assert.equal(s.reason, 'step');
      }
      const s = await next(rt, () => rt.stepBack(1, true));
      assert.equal(s.reason, 'entry', 'before the first instruction: the start');
      rt.dispose();
    });

    it('a state re-run from a snapshot equals a fresh run to the same instruction count', async () => {
      const rt = launch(mode);
      await next(rt, () => rt.start(true));
      const bps = rt.setFunctionBreakpoints([{ name: 'page_fault_handler' }]);
      await next(rt, () => rt.continue());
      const at = rt.target.icount;
      assert.ok(at > 20, `ran to ${at} (breakpoints: ${JSON.stringify(bps)})`);
      await next(rt, () => rt.stepBack(1, true));
      assert.equal(rt.target.icount, at - 1);
      const back = fingerprint(rt);
      const fresh = launch(mode);
      await next(fresh, () => fresh.start(true));
      while (fresh.target.icount < at - 1) fresh.target.run(at - 1 - fresh.target.icount);
      assert.equal(back, fingerprint(fresh));
      rt.dispose();
      fresh.dispose();
    });

    it('reverseContinue goes back to the previous breakpoint hit, then to the start', async () => {
      const rt = launch(mode);
      await next(rt, () => rt.start(true));
      const states: string[] = [];
      const icounts: number[] = [];
      // Instruction breakpoints on the entry's next instructions: a chain of hits to go back through.
      await next(rt, () => rt.stepThread(1, 'in', true));
      const rip = rt.target.vms[0].vm.vcpus[0].ripValue;
      rt.setInstructionBreakpoints([{ instructionReference: '0x' + rip.toString(16) }]);
      for (let i = 0; i < 4; i++) {
        await next(rt, () => rt.stepThread(1, 'in', true));
      }
      await next(rt, () => rt.reverseContinue());
      icounts.push(rt.target.icount);
      states.push(fingerprint(rt));
      assert.equal(rt.lastStopInfo?.reason, 'instruction breakpoint');
      assert.equal(rt.target.vms[0].vm.vcpus[0].ripValue, rip);
      const s = await next(rt, () => rt.reverseContinue());
      assert.equal(s.reason, 'entry');
      assert.equal(rt.target.icount, 0);
      rt.dispose();
    });

    it('refuses to step back past a debugger write, and says why', async () => {
      const rt = launch(mode);
      await next(rt, () => rt.start(true));
      for (let i = 0; i < 3; i++) await next(rt, () => rt.stepThread(1, 'in', true));
      const before = fingerprint(rt);
      rt.noteDebuggerWrite('register rax');
      let said = '';
      rt.on('output', (t: string) => (said += t));
      await next(rt, () => rt.stepBack(1, true));
      assert.match(said, /cannot go back past instruction 3: the debugger changed register rax/);
      assert.equal(fingerprint(rt), before);
      rt.dispose();
    });
  });
}

describe('engine state snapshot', () => {
  it('restores fields, arrays, maps, sets and typed arrays in place, sharing unchanged bytes', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const other = new Uint8Array(8);
    const inner = { n: 1, list: [1, 2] as number[] };
    const root = { inner, map: new Map<number, object>([[1, inner]]), set: new Set([1]), bytes, other, big: 5n, added: undefined as unknown };
    const s1 = new StateSnapshot([root]);
    bytes[0] = 9;
    inner.n = 2;
    inner.list.push(3);
    root.map.set(2, {});
    root.set.add(2);
    root.big = 6n;
    root.added = 'x';
    const s2 = new StateSnapshot([root], { previous: s1 });
    assert.equal(s2.copies.get(other), s1.copies.get(other), 'unchanged bytes are shared');
    assert.notEqual(s2.copies.get(bytes), s1.copies.get(bytes));
    s1.restore();
    assert.deepEqual([...bytes], [1, 2, 3]);
    assert.equal(root.inner, inner);
    assert.equal(inner.n, 1);
    assert.deepEqual(inner.list, [1, 2]);
    assert.deepEqual([...root.map.keys()], [1]);
    assert.deepEqual([...root.set], [1]);
    assert.equal(root.big, 5n);
    s2.restore();
    assert.equal(bytes[0], 9);
    assert.deepEqual(inner.list, [1, 2, 3]);
    assert.equal(root.added, 'x');
  });
});
