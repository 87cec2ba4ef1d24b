// The hypervisor's memory-virtualization modes, by name. Each mode lives in its own folder
// (shadow/, nested/, paravirt/) and exports one ModeDefinition.
import type { ModeDefinition, VirtualMode } from './virtualVm';

export const MODE_DEFINITIONS: Partial<Record<VirtualMode, ModeDefinition>> = {
};

/** The memory modes a VM can run in now: native plus every registered hypervisor mode. */
export function availableModes(): string[] {
  return ['native', ...Object.keys(MODE_DEFINITIONS)];
}
