// The hypervisor's memory-virtualization modes, by name. Each mode lives in its own folder
// (shadow/, nested/, paravirt/) and exports one ModeDefinition.
import type { ModeDefinition, VirtualMode } from './virtualVm';

export const MODE_DEFINITIONS: Partial<Record<VirtualMode, ModeDefinition>> = {
};
