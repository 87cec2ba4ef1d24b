// The CPU talks to the MMU through src/engine/cpu/mmuPort.ts; this fails to compile if the
// native Mmu stops fitting that door, and checks the door's behaviour end to end.
import { strict as assert } from 'node:assert';
import type { MmuPort } from '../../../src/engine/cpu/mmuPort';
import { PhysicalMemory } from '../../../src/engine/memory/physicalMemory';
import { Mmu, Tlb } from '../../../src/engine/mmu';

describe('Mmu as the CPU\'s MmuPort', () => {
  it('fits the port and reports faults through it', () => {
    const port: MmuPort = new Mmu(new PhysicalMemory(2 ** 20), new Tlb());
    port.setControl(0x80000001, 0x1000, 0, 0);
    assert.equal(port.translate(0x1234, 0, false, false), -1);
    assert.equal(port.fault?.errorCode, 0);
    assert.equal(port.fault?.linear, 0x1234);
    assert.equal(port.fault?.reason, 'PDE not present');
  });
});
