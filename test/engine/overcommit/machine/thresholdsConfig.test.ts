// memsched.thresholds end to end: the scenario key (each error names the key), the machine's
// scheduler applying the page floor (snapshot, state), and the scheduler's balloon targets
// counted in frames on the machine.
import * as assert from 'node:assert/strict';
import { parseScenario, ScenarioError } from '../../../../src/engine/scenario';
import { startMachine } from '../../../../src/engine/machineRunner';
import { assembleExample } from '../../../support/runAsm';
import { BalloonDevice } from '../../../../src/engine/memory/overcommit/balloon/balloonDevice';

const scenario = (thresholds: unknown, memoryMiB = 1): string =>
  JSON.stringify({ machine: { memoryMiB, memsched: { thresholds } }, vms: [{ program: 'a.s' }] });

describe('memsched.thresholds — the scenario key', () => {
  it('parses the floor and percentages; unset fields are left to the defaults', () => {
    assert.deepEqual(parseScenario(scenario({ minFreePages: 32 })).machine.memsched, { thresholds: { minFreePages: 32 } });
    assert.deepEqual(parseScenario(scenario({ high: 8, soft: 5, hard: 3, low: 1.5, upMargin: 0.1 })).machine.memsched, { thresholds: { high: 8, soft: 5, hard: 3, low: 1.5, upMargin: 0.1 } });
  });

  const errors: [unknown, RegExp, number?][] = [
    [7, /machine\.memsched\.thresholds: expected an object/],
    [{ min: 3 }, /machine\.memsched\.thresholds: unknown key 'min'/],
    [{ minFreePages: -1 }, /machine\.memsched\.thresholds\.minFreePages: expected a whole number of pages ≥ 0, got -1/],
    [{ minFreePages: 2.5 }, /machine\.memsched\.thresholds\.minFreePages: expected a whole number/],
    [{ minFreePages: 210 }, /machine\.memsched\.thresholds\.minFreePages: minFreePages 210 is too large for a machine of 256 pages/],
    [{ soft: 7 }, /machine\.memsched\.thresholds: reclaim thresholds must satisfy 100 > high > soft > hard > low > 0/],
    [{ high: 120 }, /machine\.memsched\.thresholds\.high: expected a number from 0 to 100, got 120/],
    [{ upMargin: 'x' }, /machine\.memsched\.thresholds\.upMargin: expected a number/],
  ];
  for (const [value, message] of errors) {
    it(`rejects ${JSON.stringify(value)}`, () => assert.throws(() => parseScenario(scenario(value)), (e: unknown) => e instanceof ScenarioError && message.test(e.message)));
  }

  it('the same floor fits a larger machine', () => {
    assert.doesNotThrow(() => parseScenario(scenario({ minFreePages: 210 }, 2)));
  });
});

describe('memsched.thresholds — on the machine', function () {
  this.timeout(60_000);
  const program = assembleExample('overcommit/active.s', { HOT: 8n, COLD: 0n, ROUNDS: 5n });
  const start = (minFreePages?: number) =>
    startMachine({
      memoryBytes: 256 * 4096, quantum: 10_000, maxSteps: 2_000_000,
      vms: ['a', 'b'].map((name) => ({ name, mode: 'shadow' as const, program, memoryBytes: 16 * 2 ** 20 })),
      memsched: { sharing: { enabled: false, scanPagesPerSecPerVm: 0, scanPagesPerSecTotal: 0 }, ...(minFreePages === undefined ? {} : { thresholds: { minFreePages } }) },
    });

  it('the snapshot shows the thresholds in force: the floor raises them; without it they are ESX\'s', () => {
    const t32 = start(32).machine.overcommit!.snapshot().thresholds;
    assert.deepEqual([t32.high, t32.soft, t32.hard, t32.low].map((x) => Math.round(x * 256) / 100), [32, 21.33, 10.67, 5.33]);
    assert.deepEqual(start().machine.overcommit!.snapshot().thresholds, { high: 6, soft: 4, hard: 2, low: 1 });
  });

  it('a floor too large for the machine is refused when the scheduler starts', () => {
    assert.throws(() => start(250), /minFreePages 250 is too large for a machine of 256 pages/);
  });

  it('a VM\'s balloon under the scheduler counts frames (a stand-alone one counts pages)', () => {
    const { machine } = start(32);
    for (const vm of machine.vms) assert.equal(vm.devices.find(BalloonDevice)?.accounting, 'frames');
  });
});
