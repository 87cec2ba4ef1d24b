// The vscode-free parts of the session client: thread places, the stop/resume state machine,
// the focus address, the throttle.
import * as assert from 'node:assert/strict';
import { focusOfContext, focusOfExceptionInfo, normalizeAddress } from '../../../src/extension/session/focus';
import { RESUMING_REQUESTS, StopLedger } from '../../../src/extension/session/stopLedger';
import { parseThreadName, placesOfThreads, threadsOfResponse } from '../../../src/extension/session/threadPlaces';
import { throttle } from '../../../src/extension/session/throttle';
import { fixture } from './fixtures';

describe('session: thread places', () => {
  const cases: { name: string; threads: { id: number; name: string }[]; want: [number, number, number, string][] }[] = [
    { name: 'one VM', threads: [{ id: 1, name: 'vm1/vcpu0' }], want: [[1, 1, 0, 'vm1']] },
    { name: 'two vCPUs', threads: [{ id: 1, name: 'vm1/vcpu0' }, { id: 2, name: 'vm1/vcpu1' }], want: [[1, 1, 0, 'vm1'], [2, 1, 1, 'vm1']] },
    // Scenario VMs keep their names: the n-th distinct name is VM n.
    { name: 'named scenario VMs', threads: [{ id: 1, name: 'shadowed/vcpu0' }, { id: 101, name: 'nested/vcpu0' }], want: [[1, 1, 0, 'shadowed'], [101, 2, 0, 'nested']] },
    { name: 'a slash in a VM name', threads: [{ id: 1, name: 'lab/a/vcpu3' }], want: [[1, 1, 3, 'lab/a']] },
    // A name that does not parse falls back to the adapter's id scheme (vm * 100 + vcpu + 1).
    { name: 'unparsable name', threads: [{ id: 203, name: 'cpu' }], want: [[203, 3, 2, 'vm3']] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const places = placesOfThreads(c.threads);
      for (const [id, vm, vcpu, vmName] of c.want) {
        const p = places.get(id);
        assert.ok(p, `thread ${id}`);
        assert.deepEqual([p.vm, p.vcpu, p.vmName], [vm, vcpu, vmName]);
      }
    });
  }

  it('parses names and rejects the malformed', () => {
    assert.deepEqual(parseThreadName('vm12/vcpu7'), { vmName: 'vm12', vcpu: 7 });
    assert.equal(parseThreadName('/vcpu0'), undefined);
    assert.equal(parseThreadName('vm1/vcpu'), undefined);
    assert.equal(parseThreadName('vm1'), undefined);
  });

  it('reads a threads response defensively', () => {
    assert.deepEqual(threadsOfResponse({ threads: [{ id: 1, name: 'vm1/vcpu0' }, { id: 'x' }, null] }), [{ id: 1, name: 'vm1/vcpu0' }]);
    assert.deepEqual(threadsOfResponse(undefined), []);
    assert.deepEqual(threadsOfResponse({ threads: 3 }), []);
  });
});

describe('session: stop ledger', () => {
  type Step = 'stop' | 'settle' | 'resume' | 'end';
  const cases: { name: string; steps: Step[]; phase: string; stops: number; /** is the epoch of the first stop still current? */ firstCurrent: boolean }[] = [
    { name: 'stop then settle', steps: ['stop', 'settle'], phase: 'stopped', stops: 1, firstCurrent: true },
    { name: 'resumed before settling', steps: ['stop', 'resume', 'settle'], phase: 'running', stops: 1, firstCurrent: false },
    { name: 'a second stop overtakes the first', steps: ['stop', 'stop', 'settle'], phase: 'stopping', stops: 2, firstCurrent: false },
    { name: 'step: stop, resume, stop', steps: ['stop', 'settle', 'resume', 'stop', 'settle'], phase: 'stopping', stops: 2, firstCurrent: false },
    { name: 'ended while stopped', steps: ['stop', 'settle', 'end'], phase: 'ended', stops: 1, firstCurrent: false },
    { name: 'no stop after the end', steps: ['end', 'stop'], phase: 'ended', stops: 0, firstCurrent: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const l = new StopLedger();
      let first: number | undefined;
      for (const s of c.steps) {
        if (s === 'stop') {
          const e = l.stopped();
          first ??= e;
        } else if (s === 'settle') l.settled(first ?? -1);
        else if (s === 'resume') l.resumed();
        else l.ended();
      }
      assert.equal(l.phase, c.phase);
      assert.equal(l.stopCount, c.stops);
      assert.equal(first !== undefined && l.isCurrent(first), c.firstCurrent);
    });
  }

  it('a resume is news only once, and only after a stop', () => {
    const l = new StopLedger();
    assert.equal(l.resumed(), false);
    l.stopped();
    assert.equal(l.resumed(), true);
    assert.equal(l.resumed(), false);
    assert.equal(l.ended(), true);
    assert.equal(l.ended(), false);
  });

  it('an answer from before a resume is stale', () => {
    const l = new StopLedger();
    const e = l.stopped();
    assert.ok(l.settled(e));
    const asked = l.epoch;
    assert.ok(l.isCurrent(asked));
    l.resumed();
    assert.ok(!l.isCurrent(asked));
  });

  it('knows which requests resume the debuggee', () => {
    for (const c of ['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue']) assert.ok(RESUMING_REQUESTS.has(c), c);
    for (const c of ['threads', 'stackTrace', 'evaluate', 'vmem/tableEntries', 'pause']) assert.ok(!RESUMING_REQUESTS.has(c), c);
  });
});

describe('session: focus address', () => {
  it('takes vmem/context focusAddress, null meaning none', () => {
    assert.equal(focusOfContext({ icount: 1, focusAddress: '0x00401000', access: 'read', source: 'fault' }), '0x401000');
    assert.equal(focusOfContext({ icount: 1, focusAddress: null, access: 'read', source: 'none' }), undefined);
    assert.equal(focusOfContext(undefined), undefined);
  });

  it('falls back to the exceptionInfo fields of the stopping event', () => {
    assert.equal(focusOfExceptionInfo(fixture('shadow').exc), '0x10131');
    // The EPT violation's fields carry the gva too.
    assert.equal(focusOfExceptionInfo({ details: { fields: { kind: 'ept-violation', gpa: '0x10000', gva: '0x10000' } } }), '0x10000');
    assert.equal(focusOfExceptionInfo({ details: { fields: { kind: 'vm-exit', guestLinear: '0xffff800000001000' } } }), '0xffff800000001000');
    assert.equal(focusOfExceptionInfo({ details: { fields: { kind: 'cr3-write' } } }), undefined);
    assert.equal(focusOfExceptionInfo({}), undefined);
  });

  it('normalizes numbers and hex strings, rejects the rest', () => {
    const cases: [unknown, string | undefined][] = [[4096, '0x1000'], ['0X00AB', '0xab'], ['12', undefined], [-1, undefined], [null, undefined], ['0xffffffffffffffff', '0xffffffffffffffff']];
    for (const [v, want] of cases) assert.equal(normalizeAddress(v), want, String(v));
  });
});

describe('session: throttle', () => {
  it('passes the first call, then at most one per interval with the last value', async () => {
    const seen: number[] = [];
    const t = throttle((v: number) => seen.push(v), 40);
    t(1);
    t(2);
    t(3);
    assert.deepEqual(seen, [1]);
    await new Promise((r) => setTimeout(r, 70));
    assert.deepEqual(seen, [1, 3]);
    t(4);
    t.cancel();
    await new Promise((r) => setTimeout(r, 70));
    assert.deepEqual(seen, [1, 3]);
  });
});
