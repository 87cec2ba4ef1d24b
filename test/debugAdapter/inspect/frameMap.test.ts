// The frame map's overcommit payload (vmem/frameMap): shared frames carry their reference counts,
// and each VM's guest-physical pages come as runs of p2m state over a ppn window — checked on a
// real machine with pages in every state (frameMapMachine.ts), and on random state histories
// against the p2m page by page.
import { strict as assert } from 'node:assert';
import { frameMapPayload } from '../../../src/debugAdapter/inspect/views';
import { auditMachine } from '../../../src/engine/vmm/audit';
import { Machine } from '../../../src/engine/machine/machine';
import { createVirtualVm } from '../../../src/engine/vmm/virtualVm';
import { P2mGuestMemory } from '../../../src/engine/vmm/p2m';
import type { PageState } from '../../../src/engine/vmm/p2m';
import { createInspectTarget } from '../../../src/debugAdapter/inspect/target';
import { startProgram } from '../../../src/engine/runner';
import { assembleOk } from '../../support/runAsm';
import { rng } from '../../support/rng';
import type { FrameMapWire, GuestPageRunWire, GuestPagesWire } from '../../../src/debugAdapter/viewsProtocol';
import { GUEST_PAGES, statesMachine } from './frameMapMachine';
import { adapterPerTest, writeProgram } from '../adapterHarness';
import type { DebugProtocol } from '@vscode/debugprotocol';

const MODES = ['shadow', 'nested'] as const;

function vmOf(map: FrameMapWire, name: string): GuestPagesWire {
  const g = map.guest?.find((x) => x.name === name);
  assert.ok(g, `no guest pages for ${name}`);
  return g;
}

/** The runs with their per-page arrays, in a comparable shape. */
const shape = (runs: GuestPageRunWire[]): string[] => runs.map((r) => `${r.ppn}+${r.count} ${r.state}${r.mpns ? ` mpns=${r.mpns}` : ''}${r.refs ? ` refs=${r.refs}` : ''}${r.slots ? ` slots=${r.slots}` : ''}`);

describe('inspect: the frame map with page states (vmem/frameMap)', () => {
  for (const mode of MODES) {
    describe(mode, () => {
      it('the machine built for the tests is sound (the audit finds nothing)', () => {
        const { machine } = statesMachine(mode);
        assert.deepEqual(auditMachine(machine), []);
      });

      it('each VM\'s pages: counts per state and runs with the shared frame, its references and the swap slots', () => {
        const { target, alpha, beta, sharedMpn, zeroMpn } = statesMachine(mode);
        const map = frameMapPayload(target);
        assert.deepEqual(map.guest?.map((g) => [g.vm, g.name, g.pages, g.fromPpn, g.toPpn]), [[1, 'alpha', GUEST_PAGES, 0, GUEST_PAGES], [2, 'beta', GUEST_PAGES, 0, GUEST_PAGES]]);
        const a = vmOf(map, 'alpha');
        assert.deepEqual(a.counts, { unbacked: GUEST_PAGES - 10, private: 4, shared: 2, ballooned: 2, swapped: 2 });
        const [s6, s7] = [alpha.p2m.slotOf(6), alpha.p2m.slotOf(7)];
        assert.ok(s6 >= 0 && s7 >= 0 && s6 !== s7);
        assert.deepEqual(shape(a.runs), [
          '0+4 private', `4+2 shared mpns=${sharedMpn},${sharedMpn} refs=3,3`, `6+2 swapped slots=${s6},${s7}`, '8+2 ballooned', `10+${GUEST_PAGES - 10} unbacked`,
        ]);
        assert.equal(a.swapFile, 'alpha.vswp');
        const b = vmOf(map, 'beta');
        assert.deepEqual(b.counts, { unbacked: GUEST_PAGES - 6, private: 2, shared: 2, ballooned: 1, swapped: 1 });
        assert.deepEqual(shape(b.runs), [
          '0+2 private', `2+1 swapped slots=${beta.p2m.slotOf(2)}`, '3+1 ballooned', `4+2 shared mpns=${sharedMpn},${zeroMpn} refs=3,1`, `6+${GUEST_PAGES - 6} unbacked`,
        ]);
      });

      it('machine frames: a shared frame belongs to the hypervisor, carries its references, and the census counts it', () => {
        const { target, sharedMpn, zeroMpn } = statesMachine(mode);
        const map = frameMapPayload(target);
        const sharedRuns = map.runs.filter((r) => r.use === 'shared');
        const refsOf = new Map<number, number>();
        for (const r of sharedRuns) {
          assert.equal(r.owner, 0);
          assert.equal(r.ownerName, 'hypervisor');
          assert.equal(r.refs?.length, r.count, 'one count per frame of the run');
          r.refs!.forEach((n, i) => refsOf.set(r.mpn + i, n));
        }
        assert.deepEqual([...refsOf].sort((x, y) => x[0] - y[0]), [[sharedMpn, 3], [zeroMpn, 1]].sort((x, y) => x[0] - y[0]));
        assert.equal(map.owners.hypervisor?.shared, 2);
        assert.ok(map.runs.filter((r) => r.use !== 'shared').every((r) => r.refs === undefined), 'only shared runs carry counts');
        // Every reference is a guest page in state shared (the audit's invariant, as the views see it).
        const sharedPages = (map.guest ?? []).reduce((n, g) => n + g.counts.shared, 0);
        assert.equal([...refsOf.values()].reduce((x, y) => x + y, 0), sharedPages);
        // Swapped and ballooned pages hold no frame: alpha owns its 4 private frames only (plus the mode's tables).
        assert.equal(map.owners.alpha?.['guest-data'], 4);
        assert.equal(map.owners.beta?.['guest-data'], 2);
      });

      const windows: [string, { fromPpn?: number; toPpn?: number }, string[]][] = [
        ['inside one run', { fromPpn: 1, toPpn: 3 }, ['1+2 private']],
        ['across every state', { fromPpn: 3, toPpn: 11 }, ['3+1 private', '4+2 shared', '6+2 swapped', '8+2 ballooned', '10+1 unbacked']],
        ['cutting a shared run', { fromPpn: 5, toPpn: 7 }, ['5+1 shared', '6+1 swapped']],
        ['from only', { fromPpn: 60 }, ['60+4 unbacked']],
        ['past the end', { fromPpn: 100, toPpn: 200 }, []],
        ['empty', { fromPpn: 7, toPpn: 7 }, []],
        ['reversed', { fromPpn: 9, toPpn: 2 }, []],
      ];
      for (const [what, w, want] of windows) {
        it(`a ppn window ${what} clips the runs, never the counts`, () => {
          const { target } = statesMachine(mode);
          const a = vmOf(frameMapPayload(target, w), 'alpha');
          assert.deepEqual(a.runs.map((r) => `${r.ppn}+${r.count} ${r.state}`), want);
          for (const r of a.runs) for (const arr of [r.mpns, r.refs, r.slots]) if (arr) assert.equal(arr.length, r.count);
          assert.ok(a.fromPpn <= a.toPpn && a.toPpn <= GUEST_PAGES);
          assert.equal(a.runs.reduce((n, r) => n + r.count, 0), a.toPpn - a.fromPpn, 'the runs tile the window');
          assert.equal(Object.values(a.counts).reduce((x, y) => x + y, 0), GUEST_PAGES);
        });
      }

      it('the mpn window still clips the machine runs, and keeps every VM\'s guest pages', () => {
        const { target, sharedMpn } = statesMachine(mode);
        const map = frameMapPayload(target, { fromMpn: sharedMpn, toMpn: sharedMpn + 1 });
        assert.ok(map.runs.length >= 1 && map.runs.every((r) => r.mpn <= sharedMpn && r.mpn + r.count > sharedMpn));
        assert.equal(map.guest?.length, 2);
      });
    });
  }

  it('random state histories: the runs are maximal and say, page by page, what the p2m says', () => {
    const pick = rng(0x5eed).int;
    const seen = new Set<PageState>();
    for (let round = 0; round < 20; round++) {
      const machine = new Machine({ memoryBytes: 4 * 1024 * 1024, quantum: 1_000 });
      const vms = [createVirtualVm(machine, round % 2 ? 'nested' : 'shadow', { memoryBytes: 128 * 4096 }), createVirtualVm(machine, 'shadow', { memoryBytes: 96 * 4096 })];
      const shared: number[] = [];
      for (let op = 0; op < 400; op++) {
        const v = vms[pick(2)];
        const p = pick(v.p2m.pages);
        const k = pick(6);
        if (k === 0) new P2mGuestMemory(v.p2m).write8(p * 4096, 1 + pick(3));
        else if (k === 1) v.p2m.swapOut(p);
        else if (k === 2) v.p2m.balloon(p);
        else if (k === 3) v.p2m.deflate(p);
        else if (k === 4 && shared.length && v.p2m.stateOf(p) === 'private') v.p2m.shareWith(p, shared[pick(shared.length)]);
        else if (k === 5 && v.p2m.stateOf(p) === 'private') {
          const m = v.p2m.shareInPlace(p);
          if (m >= 0) shared.push(m);
        }
        // Shared frames whose last reference went are freed: forget them.
        for (let i = shared.length - 1; i >= 0; i--) if (!machine.memory.shared.isShared(shared[i])) shared.splice(i, 1);
      }
      assert.deepEqual(auditMachine(machine), [], `round ${round}`);
      const target = createInspectTarget(machine, vms.map((v) => ({ vm: v.vm })));
      const from = pick(64);
      const to = from + pick(120);
      const map = frameMapPayload(target, { fromPpn: from, toPpn: to });
      const totals = new Map<string, number>();
      for (const [i, g] of (map.guest ?? []).entries()) {
        const p2m = vms[i].p2m;
        assert.equal(g.fromPpn, Math.min(from, p2m.pages));
        assert.equal(g.toPpn, Math.min(to, p2m.pages));
        let next = g.fromPpn;
        let prev: PageState | undefined;
        for (const r of g.runs) {
          assert.equal(r.ppn, next, 'runs are contiguous');
          assert.notEqual(r.state, prev, 'runs are maximal');
          seen.add(r.state);
          for (let j = 0; j < r.count; j++) {
            const ppn = r.ppn + j;
            assert.equal(p2m.stateOf(ppn), r.state, `round ${round} vm${i + 1} ppn ${ppn}`);
            if (r.state === 'shared') {
              assert.equal(r.mpns![j], p2m.lookup(ppn));
              assert.equal(r.refs![j], machine.memory.shared.refs(p2m.lookup(ppn)));
            } else assert.equal(r.mpns, undefined);
            if (r.state === 'swapped') assert.equal(r.slots![j], p2m.slotOf(ppn));
            else assert.equal(r.slots, undefined);
          }
          next = r.ppn + r.count;
          prev = r.state;
        }
        assert.equal(next, g.toPpn);
        for (const s of ['unbacked', 'private', 'shared', 'ballooned', 'swapped'] as const) {
          assert.equal(g.counts[s], p2m.pagesInState(s).length);
          totals.set(s, (totals.get(s) ?? 0) + g.counts[s]);
        }
      }
      const refs = map.runs.filter((r) => r.use === 'shared').reduce((n, r) => n + r.refs!.reduce((x, y) => x + y, 0), 0);
      assert.equal(refs, totals.get('shared'), `round ${round}: references = shared pages`);
    }
    assert.deepEqual([...seen].sort(), ['ballooned', 'private', 'shared', 'swapped', 'unbacked'], 'the histories reach every state');
  });

  it('native mode: no p2m, so no guest pages', () => {
    const s = startProgram(assembleOk('_start:\n    hlt\n'), { mode: 'native', memoryBytes: 1024 * 1024 });
    const map = frameMapPayload(createInspectTarget(null, [{ vm: s.vm }]));
    assert.equal(map.native, true);
    assert.equal(map.guest, undefined);
  });

  describe('over DAP (the bundled adapter)', () => {
    const h = adapterPerTest();
    it('vmem/frameMap takes a ppn window beside the mpn window, and a new window is not served from the memo', async () => {
      const dc = h.dc;
      const program = writeProgram('prog.s', '.org 0x1000\n_start:\n    mov rax, 1\n    mov [0x5000], rax\n    hlt\n');
      await Promise.all([
        dc.waitForEvent('initialized').then(() => dc.configurationDoneRequest()),
        dc.initializeRequest({ adapterID: 'vmem', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true })
          .then(() => dc.launchRequest({ type: 'vmem', request: 'launch', name: 'x', program, mode: 'shadow', stopOnEntry: true } as DebugProtocol.LaunchRequestArguments)),
        dc.waitForEvent('stopped'),
      ]);
      const ask = async (args: object): Promise<FrameMapWire> => (await dc.customRequest('vmem/frameMap', args)).body as FrameMapWire;
      const all = await ask({});
      assert.equal(all.native, false);
      assert.equal(all.guest?.length, 1);
      const g = all.guest![0];
      assert.deepEqual([g.fromPpn, g.toPpn], [0, g.pages], 'no window: every page');
      assert.ok(g.counts.private >= 1, 'the loaded program backs pages');
      assert.equal(Object.values(g.counts).reduce((x, y) => x + y, 0), g.pages);
      const w = (await ask({ fromMpn: 0, toMpn: 64, fromPpn: 1, toPpn: 3 })).guest![0];
      assert.deepEqual([w.fromPpn, w.toPpn, w.runs.reduce((n, r) => n + r.count, 0)], [1, 3, 2]);
      const w2 = (await ask({ fromMpn: 0, toMpn: 64, fromPpn: 4, toPpn: 9 })).guest![0];
      assert.deepEqual([w2.fromPpn, w2.toPpn], [4, 9], 'same mpn window, new ppn window: a new answer');
    });
  });
});
