// Per-mode engine options (launch configuration, scenario files, CLI flags all end up here).

export interface ShadowOptions {
  /**
   * trace: every guest page-table page is write-protected and writes are emulated (shadow
   * always in sync, as KVM does for synced pages). unsync: leaf (L1) tables are not traced;
   * the shadow is resynced only on INVLPG and CR3 writes, so a guest that skips INVLPG sees
   * the stale mapping through the shadow (KVM's unsync pages, Xen's out-of-sync L1s).
   */
  sync: 'trace' | 'unsync';
  /** Shadow roots kept for recent CR3 values (KVM keeps the current one plus 3). */
  rootCacheSize: number;
}

export interface NestedOptions {
  /** Largest page size the VMM uses in its EPT mappings of guest memory. */
  eptPageSize: '4k' | '2m' | '1g';
  /** EPTP bit 6: the processor sets EPT accessed/dirty flags (and guest walks count as writes). */
  accessedDirty: boolean;
  /** Tag TLB entries with the VM's VPID (switching VMs does not flush). */
  vpid: boolean;
  /** Paging-structure caches for the 2-D walk (off by default, to show the full cost). */
  walkCaches: boolean;
  /** EPT walk length (EPTP bits 5:3 + 1): 4 (default) or 5 (5-level EPT). */
  eptLevels?: 4 | 5;
}

export interface ParavirtOptions {
  /**
   * Guest-physical page where the VMM places the (read-only) p2m table for the guest to read:
   * one qword per guest page, so 32 pages for 64 MiB. 0xc0 fits guests up to 128 MiB below the
   * teaching kernel's page-table area (0x100000).
   */
  p2mPage: number;
}

export interface ModeOptions {
  shadow: ShadowOptions;
  nested: NestedOptions;
  paravirt: ParavirtOptions;
}

export const DEFAULT_MODE_OPTIONS: ModeOptions = {
  shadow: { sync: 'trace', rootCacheSize: 4 },
  nested: { eptPageSize: '4k', accessedDirty: false, vpid: true, walkCaches: false },
  paravirt: { p2mPage: 0xc0 },
};
