// Scenario files: what is accepted, and every kind of mistake reported with where and what was expected.
import { strict as assert } from 'node:assert';
import { parseScenario, ScenarioError } from '../../src/engine/scenario';

describe('scenario format', () => {
  it('fills defaults for a minimal scenario', () => {
    const s = parseScenario('{"vms":[{"program":"a.s"},{"program":"b.s","mode":"nested","name":"b","memoryMiB":32}]}');
    assert.equal(s.vms.length, 2);
    assert.deepEqual(s.vms.map((v) => [v.name, v.mode, v.memoryMiB, v.vcpus]), [['vm1', 'shadow', 64, 1], ['b', 'nested', 32, 1]]);
    assert.equal(s.machine.memoryMiB, 192);
    assert.equal(s.machine.quantum, 10_000);
  });

  it('reads the memory scheduler and the VMs\' allocation parameters', () => {
    const s = parseScenario(JSON.stringify({
      machine: { memoryMiB: 48, cyclesPerSecond: 2_000_000, swapLatencyMs: 5, memsched: { policy: 'shares', tau: 0.5, balancePeriodS: 2, victim: 'lru', seed: 7, sharing: { scanPagesPerSecPerVm: 500 } } },
      vms: [
        { program: 'a.s', memoryMiB: 32, minMiB: 4, maxMiB: 24, shares: 2000, sampled: false, balloon: { schedule: '0:100,2:0' }, disk: false },
        { program: 'b.s', memoryMiB: 32, balloon: false },
      ],
    }));
    assert.equal(s.machine.cyclesPerSecond, 2_000_000);
    assert.equal(s.machine.swapLatencyCycles, 10_000);
    assert.deepEqual(s.machine.memsched, { policy: 'shares', tau: 0.5, balancePeriodS: 2, victim: 'lru', seed: 7, sharing: { enabled: true, scanPagesPerSecPerVm: 500, scanPagesPerSecTotal: 200 } });
    assert.deepEqual(s.vms[0].allocation, { minBytes: 4 * 2 ** 20, maxBytes: 24 * 2 ** 20, shares: 2000, sampled: false });
    assert.deepEqual(s.vms[0].devices, { balloon: { schedule: [{ at: 0, pages: 100 }, { at: 2, pages: 0 }] }, disk: false });
    assert.deepEqual(s.vms[1].devices, { balloon: false });
    assert.equal(parseScenario('{"machine":{"memsched":false},"vms":[{"program":"a.s"}]}').machine.memsched, false);
    assert.deepEqual(parseScenario('{"machine":{"memsched":true},"vms":[{"program":"a.s"}]}').machine.memsched, {});
    assert.equal(parseScenario('{"vms":[{"program":"a.s"}]}').machine.memsched, undefined);
  });

  it('reads mode options and defines', () => {
    const s = parseScenario(JSON.stringify({
      machine: { memoryMiB: 512, quantum: 500 },
      vms: [{ program: 'k.s', mode: 'shadow', defines: { PAGING: 32 }, modeOptions: { shadow: { sync: 'unsync' }, nested: { eptPageSize: '2m', vpid: false } } }],
    }));
    assert.deepEqual(s.vms[0].defines, { PAGING: 32n });
    assert.equal(s.vms[0].modeOptions.shadow?.sync, 'unsync');
    assert.equal(s.vms[0].modeOptions.nested?.eptPageSize, '2m');
    assert.equal(s.vms[0].modeOptions.nested?.vpid, false);
  });

  const bad: [string, RegExp][] = [
    ['not json', /not valid JSON/],
    ['[]', /JSON object with "vms"/],
    ['{}', /vms: expected a non-empty array/],
    ['{"vms":[]}', /vms: expected a non-empty array/],
    ['{"vms":[{}]}', /vms\[0\]\.program: expected the path/],
    ['{"vms":[{"program":"a.s","mode":"turbo"}]}', /vms\[0\]\.mode: expected one of "native", "shadow", "nested", "paravirt", got "turbo"/],
    ['{"vms":[{"program":"a.s","memoryMiB":0}]}', /vms\[0\]\.memoryMiB: expected a whole number from 1 to 4096/],
    ['{"vms":[{"program":"a.s","colour":"red"}]}', /vms\[0\]: unknown key 'colour'/],
    ['{"vms":[{"program":"a.s"}],"machne":{}}', /scenario: unknown key 'machne'/],
    ['{"vms":[{"program":"a.s","name":"x"},{"program":"b.s","name":"x"}]}', /'x' is used twice/],
    ['{"vms":[{"program":"a.s","mode":"native"},{"program":"b.s"}]}', /native VM runs without a hypervisor/],
    ['{"vms":[{"program":"a.s","defines":{"PAGING":"32"}}]}', /defines\.PAGING: expected a whole number/],
    ['{"vms":[{"program":"a.s","modeOptions":{"shadow":{"sync":"lazy"}}}]}', /modeOptions\.shadow\.sync: expected one of "trace", "unsync"/],
    ['{"vms":[{"program":"a.s","modeOptions":{"nested":{"vpid":"yes"}}}]}', /modeOptions\.nested\.vpid: expected true or false/],
    ['{"machine":{"quantum":-5},"vms":[{"program":"a.s"}]}', /machine\.quantum: expected a whole number/],
    ['{"machine":{"memsched":{"policy":"fair"}},"vms":[{"program":"a.s"}]}', /machine\.memsched\.policy: expected one of "shares", "idle-tax", "working-set"/],
    ['{"machine":{"memsched":{"tau":1}},"vms":[{"program":"a.s"}]}', /machine\.memsched\.tau: expected a number from 0 to 0\.99/],
    ['{"machine":{"memsched":{"victim":"oldest"}},"vms":[{"program":"a.s"}]}', /machine\.memsched\.victim: expected one of "random", "clock", "lru"/],
    ['{"machine":{"memsched":{"sharing":{"rate":5}}},"vms":[{"program":"a.s"}]}', /machine\.memsched\.sharing: unknown key 'rate'/],
    ['{"machine":{"memsched":"on"},"vms":[{"program":"a.s"}]}', /machine\.memsched: expected true, false or an object/],
    ['{"machine":{"swapLatencyMs":-1},"vms":[{"program":"a.s"}]}', /machine\.swapLatencyMs: expected a number from 0/],
    ['{"vms":[{"program":"a.s","memoryMiB":16,"minMiB":20}]}', /vms\[0\]\.minMiB: expected a number from 0 to 16/],
    ['{"vms":[{"program":"a.s","minMiB":8,"maxMiB":4}]}', /minMiB \(8\) must not exceed maxMiB \(4\)/],
    ['{"vms":[{"program":"a.s","shares":0}]}', /vms\[0\]\.shares: expected a whole number/],
    ['{"vms":[{"program":"a.s","balloon":{"schedule":"soon"}}]}', /vms\[0\]\.balloon\.schedule:/],
    ['{"vms":[{"program":"a.s","balloon":true}]}', /vms\[0\]\.balloon: expected false or an object/],
    ['{"vms":[{"program":"a.s","disk":{}}]}', /vms\[0\]\.disk: expected false/],
  ];
  for (const [text, re] of bad) {
    it(`rejects ${text.length > 60 ? text.slice(0, 57) + '...' : text}`, () => {
      assert.throws(() => parseScenario(text), (e: unknown) => e instanceof ScenarioError && re.test(e.message));
    });
  }
});
