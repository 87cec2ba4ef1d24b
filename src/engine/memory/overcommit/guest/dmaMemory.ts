// How a device reaches guest memory by DMA: through the VMM's guest-physical view, never behind
// its back. Under a hypervisor a DMA read of a page the VMM swapped out must bring it back first
// (p2m.resident): that is the path where double paging shows up — the guest writes out a page the
// host had already written out, so the host reads it in only to see it written out again.
import { PAGE_SIZE } from '../../frame';
import type { PhysicalMemory } from '../../physicalMemory';

export interface DmaMemory {
  /** Guest-physical pages (a ppn at or above is out of range). */
  readonly pages: number;
  /** The page's bytes, for a transfer to the device (a disk write). */
  readPage(ppn: number): Uint8Array;
  /** Fills the page, for a transfer from the device (a disk read). */
  writePage(ppn: number, data: Uint8Array): void;
}

/** What the p2m (vmm/p2m.ts) offers a device: resident() for reads, back(ppn, 'write') for writes. */
export interface P2mForDma {
  readonly pages: number;
  /** The mpn of a resident page, swapping in a VMM-swapped one; -1 for a page with no frame (it reads as zeros). */
  resident(ppn: number): number;
  back(ppn: number, access?: 'read' | 'write'): number;
  readonly machine: { readonly bytes: PhysicalMemory };
}

export function p2mDma(p2m: P2mForDma): DmaMemory {
  return {
    pages: p2m.pages,
    readPage(ppn) {
      const mpn = p2m.resident(ppn);
      return mpn < 0 ? new Uint8Array(PAGE_SIZE) : p2m.machine.bytes.readBytes(mpn * PAGE_SIZE, PAGE_SIZE);
    },
    writePage(ppn, data) {
      const mpn = p2m.back(ppn, 'write');
      p2m.machine.bytes.writeBytes(mpn * PAGE_SIZE, data);
    },
  };
}

/** A VM without a hypervisor: guest-physical memory is the machine's. */
export function nativeDma(memory: PhysicalMemory): DmaMemory {
  return {
    pages: Math.floor(memory.size / PAGE_SIZE),
    readPage: (ppn) => memory.readBytes(ppn * PAGE_SIZE, PAGE_SIZE),
    writePage: (ppn, data) => memory.writeBytes(ppn * PAGE_SIZE, data),
  };
}
