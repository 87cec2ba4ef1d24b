// The balloon device's register interface: I/O ports, status bits and driver states, as the
// guest's driver (examples/kernel/balloon.s) and docs/overcommit/balloon.md name them.
// Modelled on virtio-balloon's config space (num_pages set by the host, actual reported by the
// driver, 4 KiB page frame numbers, at most 256 per request) but over I/O ports: this machine
// has no virtqueues, so a batch goes through a guest-physical list page instead of a queue.

export const BalloonPort = {
  /** in: the host's target balloon size in pages (virtio `num_pages`). */
  TARGET: 0xb0,
  /** out: the driver's balloon size after the host acknowledged (virtio `actual`); in: the host's count. */
  ACTUAL: 0xb1,
  /** out: hand one page (its ppn) to the host. */
  INFLATE: 0xb2,
  /** out: take one page (its ppn) back from the host. */
  DEFLATE: 0xb3,
  /** out: guest-physical address of the list page (4 KiB aligned): up to 256 dword ppns. */
  LIST: 0xb4,
  /** out: inflate the first N ppns of the list page. */
  INFLATE_LIST: 0xb5,
  /** out: deflate the first N ppns of the list page. */
  DEFLATE_LIST: 0xb6,
  /** in: the status word (STATUS_*); out: write-1-to-clear POPPED (the driver has reset). */
  STATUS: 0xb7,
  /** in: pages the last request completed (a batch stops at the first page the host refuses). */
  RESULT: 0xb8,
  /** out: the driver's state (DRIVER_*), announced when it loads or gives up. */
  DRIVER: 0xb9,
  /** out: the most pages the guest will let the balloon hold (its cap, e.g. 65% of its memory). */
  LIMIT: 0xba,
} as const;

export const BALLOON_PORTS: readonly number[] = Object.values(BalloonPort);

/** virtio-balloon (and Linux) never put more than 256 pfns in one request. */
export const BALLOON_MAX_BATCH = 256;

/** Status word bits. Bit 31 is always 0, so a read of all ones means "no device on this port". */
export const BalloonStatus = {
  /** The device is there. */
  PRESENT: 1 << 0,
  /** The host reset the balloon (the guest touched a ballooned page): the driver must start over. */
  POPPED: 1 << 1,
  /** The last request was carried out in full. */
  ACK: 1 << 2,
  /** The last request was refused, in full or in part (RESULT says how far it got). */
  ERROR: 1 << 3,
} as const;

/** What the driver tells the device about itself (port DRIVER). */
export const BalloonDriver = {
  /** Loaded and working (the initial state is "absent": no driver has spoken yet). */
  LOADED: 1,
  /** Loaded but disabled by the guest's administrator: it will never inflate. */
  DISABLED: 2,
} as const;

export type DriverState = 'absent' | 'loaded' | 'disabled';
