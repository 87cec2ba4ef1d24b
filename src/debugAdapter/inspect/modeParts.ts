// The mode-specific parts of a VM the views need, found behind the generic ModeInstance.
import type { ModeInstance } from '../../engine/vmm/virtualVm';
import { asShadowInstance } from '../../engine/vmm/shadow/shadowMode';
import type { ShadowInstance } from '../../engine/vmm/shadow/shadowMode';
import { NestedVmm } from '../../engine/vmm/nested/nestedVmm';
import type { NestedInstance } from '../../engine/vmm/nested/nestedMode';
import type { InspectedVm } from './target';

export function shadowOf(v: InspectedVm): ShadowInstance | undefined {
  return v.instance ? asShadowInstance(v.instance) : undefined;
}

export function nestedOf(v: InspectedVm): NestedInstance | undefined {
  const i = v.instance as (ModeInstance & Partial<NestedInstance>) | null;
  return i && i.vmm instanceof NestedVmm ? (i as NestedInstance) : undefined;
}
