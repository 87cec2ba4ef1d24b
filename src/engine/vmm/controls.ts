// A VM's execution controls: which guest events cause VM exits, like the VMCS's pin-based,
// processor-based and secondary controls, the exception bitmap and the CR guest/host masks.
// The UI shows this block as it is; each mode starts from its own defaults.

export interface ExecutionControls {
  /** Processor-based controls. */
  hltExiting: boolean;
  invlpgExiting: boolean;
  cr3LoadExiting: boolean;
  cr3StoreExiting: boolean;
  unconditionalIoExiting: boolean;
  /** Exit on RDMSR/WRMSR (this VMM does not model MSR bitmaps: all MSRs or none). */
  msrExiting: boolean;
  /** Secondary controls. */
  enableEpt: boolean;
  enableVpid: boolean;
  /** VPID of the VM's vCPUs (0 = none: every entry and exit flushes). */
  vpid: number;
  /** Bit n: exception n exits (the MMU port owns #PF exits; see docs/vmm.md). */
  exceptionBitmap: number;
  /** CR0/CR4 bits owned by the host: a guest write changing one exits (CR access). */
  cr0GuestHostMask: number;
  cr4GuestHostMask: number;
}

/** Unconditional in VMX non-root operation: CPUID, VMCALL, triple fault, INVEPT/INVVPID. */
export const ALWAYS_EXITING = ['CPUID', 'VMCALL', 'triple fault', 'INVEPT', 'INVVPID'] as const;

export function defaultControls(): ExecutionControls {
  return {
    hltExiting: true, invlpgExiting: false, cr3LoadExiting: false, cr3StoreExiting: false, unconditionalIoExiting: true,
    msrExiting: true, enableEpt: false, enableVpid: false, vpid: 0, exceptionBitmap: 0, cr0GuestHostMask: 0, cr4GuestHostMask: 0,
  };
}
