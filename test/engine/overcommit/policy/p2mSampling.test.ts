// The sampler over a real p2m: P2m.sample drops the mappings (mapper.revoke 'none') and the next
// touch reports through observer.sampledTouch, which counts once toward f.
import { strict as assert } from 'node:assert';
import { MachineMemory } from '../../../../src/engine/machine/machineMemory';
import { P2m, type P2mObserver } from '../../../../src/engine/vmm/p2m';
import { p2mSamplingPort } from '../../../../src/engine/memory/overcommit/policy/p2mSampling';
import { DEFAULT_GAINS, WorkingSetSampler } from '../../../../src/engine/memory/overcommit/policy/workingSet';
import { seededRandom } from '../../../../src/engine/memory/overcommit/seededRandom';

describe('policy/p2mSampling — the sampler on a real p2m', () => {
  it('samples only resident pages, revokes their mappings, and counts guest touches once', () => {
    const machine = new MachineMemory(4 * 1024 * 1024);
    const p2m = new P2m(machine, 1, 1024 * 1024); // 256 guest pages
    for (let p = 0; p < 200; p++) p2m.back(p);
    const revoked: [number, string][] = [];
    p2m.mapper = { revoke: (ppn, to) => void revoked.push([ppn, to]) };
    const sampler = new WorkingSetSampler(p2mSamplingPort(p2m), seededRandom(3), { samplePages: 50, periodCycles: 100, gains: DEFAULT_GAINS });
    const observer: P2mObserver = { touched: () => undefined, sampledTouch: (ppn) => sampler.touched(ppn) };
    p2m.observer = observer;
    const sample = sampler.sampledPages();
    assert.equal(sample.length, 50);
    assert.ok(sample.every((p) => p < 200), 'resident pages only');
    assert.deepEqual(revoked.map(([p]) => p).sort((a, b) => a - b), [...sample].sort((a, b) => a - b));
    assert.ok(revoked.every(([, to]) => to === 'none'));
    assert.ok(sample.every((p) => p2m.isSampled(p)));
    // The guest touches 20 of them (each twice) and some unsampled pages.
    for (const p of sample.slice(0, 20)) {
      p2m.back(p, 'read');
      p2m.back(p, 'write');
    }
    for (let p = 0; p < 200; p++) if (!sample.includes(p)) p2m.back(p, 'read');
    sampler.advance(100);
    assert.equal(sampler.lastSample, 20 / 50);
  });
});
