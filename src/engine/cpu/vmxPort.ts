// What the vCPU needs of a hypervisor: the execution controls (which events exit) and the
// door an exit goes through. null on a vCPU in native mode, where nothing exits.
import type { ExecutionControls } from '../vmm/controls';

export interface ExitRequest {
  /** Intel basic exit reason (src/engine/vmm/exitReasons.ts). */
  reason: number;
  qualification: bigint;
  guestLinear?: bigint;
  guestPhysical?: bigint;
  interruptionInfo?: number;
  errorCode?: number;
  /** Length of the exiting instruction (VM-exit instruction length). */
  instructionLength?: number;
}

/**
 * What the VMM wants done after handling an exit:
 *  continue — the instruction proceeds with its architectural effect (the VMM's own work, e.g.
 *             switching a shadow root, happens in the MMU port hooks it is about to call);
 *  skip     — the VMM emulated the instruction completely (registers included): move past it;
 *  inject   — deliver this exception to the guest instead;
 *  stop     — end the VM with this message (e.g. an EPT misconfiguration: a VMM bug).
 */
export type ExitAction =
  | { kind: 'continue' }
  | { kind: 'skip' }
  | { kind: 'inject'; vector: number; errorCode?: number }
  | { kind: 'stop'; message: string };

/** The subset of the vCPU an exit handler may use (registers for hypercalls and CPUID). */
export interface ExitingCpu {
  readonly index: number;
  readonly icount: number;
  getReg(i: number): bigint;
  setReg(i: number, v: bigint): void;
  readonly ripValue: bigint;
  /** The processor's own CPUID answer [eax, ebx, ecx, edx], for a VMM emulating CPUID. */
  cpuidNative(leaf: number): [number, number, number, number];
}

export interface VmxPort {
  readonly controls: ExecutionControls;
  exit(cpu: ExitingCpu, request: ExitRequest): ExitAction;
}

export const CONTINUE: ExitAction = { kind: 'continue' };
export const SKIP: ExitAction = { kind: 'skip' };
