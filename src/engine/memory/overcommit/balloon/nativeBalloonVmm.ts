// The balloon's VMM side for a VM without a hypervisor (native mode): nobody takes the frames,
// so inflating only discards the page's contents, as handing it to a host would. The driver
// runs exactly as it would under a hypervisor — the reference every mode's console must match.
import type { PhysicalMemory } from '../../physicalMemory';
import { PAGE_SIZE } from '../../frame';
import type { BalloonVmm } from './balloonDevice';

export function nativeBalloonVmm(memory: PhysicalMemory): BalloonVmm {
  return {
    balloon(ppn: number): boolean {
      if (ppn < 0 || ppn * PAGE_SIZE >= memory.size) return false;
      memory.zeroFrame(ppn);
      return true;
    },
    deflate(): void {
      // The page is the guest's again; its frame never left.
    },
  };
}
