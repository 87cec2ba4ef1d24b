// A VM's guest-physical address space as the loader, the debugger and the VMM see it. In native
// mode it is the machine's memory itself; under a hypervisor it goes through the p2m.
export interface GuestMemory {
  /** Bytes of guest-physical memory. */
  readonly size: number;
  /** Frames that cost memory so far (written at least once). */
  readonly touchedFrames: number;
  read8(gpa: number): number;
  write8(gpa: number, v: number): void;
  readU(gpa: number, bytes: 1 | 2 | 4): number;
  writeU(gpa: number, bytes: 1 | 2 | 4, value: number): void;
  read32(gpa: number): number;
  write32(gpa: number, v: number): void;
  writeBytes(gpa: number, bytes: ArrayLike<number>): void;
  readBytes(gpa: number, length: number): Uint8Array;
}
