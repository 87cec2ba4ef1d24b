// The hypervisor's memory-virtualization modes, by name. Each mode lives in its own folder
// (shadow/, nested/, paravirt/) and exports one ModeDefinition.
import type { ModeDefinition, VirtualMode } from './virtualVm';
import { shadowMode } from './shadow/shadowMode';
import { paravirtMode } from './paravirt/paravirtMode';
import { nestedMode } from './nested/nestedMode';

export const MODE_DEFINITIONS: Partial<Record<VirtualMode, ModeDefinition>> = {
  shadow: shadowMode,
  paravirt: paravirtMode,
  nested: nestedMode,
};

/** The memory modes a VM can run in now: native plus every registered hypervisor mode. */
export function availableModes(): string[] {
  return ['native', ...Object.keys(MODE_DEFINITIONS)];
}
