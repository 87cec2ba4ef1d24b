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
  ];
  for (const [text, re] of bad) {
    it(`rejects ${text.length > 60 ? text.slice(0, 57) + '...' : text}`, () => {
      assert.throws(() => parseScenario(text), (e: unknown) => e instanceof ScenarioError && re.test(e.message));
    });
  }
});
