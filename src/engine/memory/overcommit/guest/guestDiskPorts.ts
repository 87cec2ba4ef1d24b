// The guest disk's register interface (docs/overcommit/guest-swap.md). A page-sized-sector disk:
// the driver names a slot and a guest page, then a command; the device moves the page by DMA
// and the vCPU waits for it (the latency is charged to the VM as stall cycles).

export const DiskPort = {
  /** out: the slot (a 4 KiB sector) the next command reads or writes. */
  SLOT: 0xd0,
  /** out: the guest-physical page number the next command transfers to or from. */
  PPN: 0xd1,
  /** out: DiskCommand.READ (slot → page) or DiskCommand.WRITE (page → slot): runs it. */
  COMMAND: 0xd2,
  /** in: the status word (DiskStatus). */
  STATUS: 0xd3,
  /** in: the disk's size in slots. */
  SLOTS: 0xd4,
} as const;

export const DISK_PORTS: readonly number[] = Object.values(DiskPort);

export const DiskCommand = { READ: 1, WRITE: 2 } as const;

/** Status bits. Bit 31 is 0, so all ones means "no disk here". */
export const DiskStatus = {
  PRESENT: 1 << 0,
  /** The last command completed. */
  DONE: 1 << 1,
  /** The last command was refused (slot or page out of range, unknown command). */
  ERROR: 1 << 2,
} as const;
