// The configurations the differential test compares with native: every registered hypervisor
// mode except paravirt (whose guests hold machine frames, so they differ by design), with the
// mode options whose behaviour the architecture pins down ("exact") or lets vary ("stale").
import { availableModes } from '../../../../src/engine/vmm/modes';
import type { MemoryMode } from '../../../../src/engine/vm';
import type { ModeConfig } from './trace';

export interface ComparedConfig extends ModeConfig {
  /**
   * exact: must equal native for every program. cache: translations may live longer (shadow
   * "unsync") or shorter (no VPID: every VM exit flushes) than in native's TLB, which the
   * architecture allows: equal for programs that flush after every paging-structure write
   * (and EFER.NXE change), otherwise differing only from the first operation that did not.
   */
  rule: 'exact' | 'cache';
  /** Run on every n-th program only (variants that repeat a mode with other options). */
  every: number;
}

export function comparedConfigs(): ComparedConfig[] {
  const out: ComparedConfig[] = [];
  for (const name of availableModes()) {
    if (name === 'native' || name === 'paravirt') continue;
    const mode = name as MemoryMode;
    if (mode === 'shadow') {
      out.push({ label: 'shadow/trace', mode, modeOptions: { shadow: { sync: 'trace' } }, rule: 'exact', every: 1 });
      out.push({ label: 'shadow/unsync', mode, modeOptions: { shadow: { sync: 'unsync' } }, rule: 'cache', every: 1 });
      out.push({ label: 'shadow/trace,1-root-cache', mode, modeOptions: { shadow: { sync: 'trace', rootCacheSize: 1 } }, rule: 'exact', every: 4 });
    } else if (mode === 'nested') {
      out.push({ label: 'nested', mode, rule: 'exact', every: 1 });
      out.push({ label: 'nested/2m-ept,A/D', mode, modeOptions: { nested: { eptPageSize: '2m', accessedDirty: true } }, rule: 'exact', every: 4 });
      out.push({ label: 'nested/no-vpid', mode, modeOptions: { nested: { vpid: false } }, rule: 'cache', every: 4 });
    } else out.push({ label: mode, mode, rule: 'exact', every: 1 });
  }
  return out;
}
