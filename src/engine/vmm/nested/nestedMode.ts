// The `nested` memory mode: hardware-assisted MMU virtualization with EPT (Intel) — what AMD
// calls NPT/RVI. The guest owns its page tables and CR3 outright (no CR3, INVLPG or #PF
// exits); the VMM only fills and polices the EPT. See docs/vmm/nested.md.
import { defaultControls } from '../controls';
import type { ExecutionControls } from '../controls';
import type { ModeOptions } from '../options';
import type { ModeContext, ModeDefinition, ModeInstance } from '../virtualVm';
import { auditNested } from './audit';
import { NestedMmu } from './nestedMmu';
import { NestedVmm } from './nestedVmm';

/** A nested VM's instance, with the VMM and the per-vCPU ports reachable for tests and the UI. */
export interface NestedInstance extends ModeInstance {
  vmm: NestedVmm;
  ports: NestedMmu[];
}

export function nestedControls(options: ModeOptions): ExecutionControls {
  return {
    ...defaultControls(),
    // The point of EPT: the guest's MMU operations run at full speed, unintercepted.
    invlpgExiting: false,
    cr3LoadExiting: false,
    cr3StoreExiting: false,
    enableEpt: true,
    enableVpid: options.nested.vpid,
  };
}

export function createNested(ctx: ModeContext): NestedInstance {
  const vmm = new NestedVmm(ctx);
  const ports: NestedMmu[] = [];
  ctx.p2m.mapper = { revoke: (ppn, to) => vmm.revoke(ppn, to) };
  return {
    vmm,
    ports,
    mmuFor(i) {
      const { tlb, vpid } = ctx.hostTlb(i);
      const port = new NestedMmu(vmm, i, ctx.machine.bytes, tlb, vpid, ctx.maxPhyAddr);
      ports[i] = port;
      return { port, tlb };
    },
    audit: () => auditNested(vmm),
  };
}

export const nestedMode: ModeDefinition = {
  mode: 'nested',
  controls: nestedControls,
  create: createNested,
};
