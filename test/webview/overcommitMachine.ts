// A real overcommitted machine for the Memory Overcommit tests (adapter payload and webview): two
// 4 MiB VMs on less machine memory than they touch, with a memory scheduler rebalancing every
// 50 ms of simulated time. "busy" (shadow paging) rewrites its pages forever; "idle" (nested
// paging) writes its pages once and then spins touching none, so the idle tax moves memory from
// it to "busy", and the hypervisor swaps (neither guest has a balloon driver).
import { startMachine } from '../../src/engine/machineRunner';
import type { MachineInput } from '../../src/engine/machineRunner';
import { assembleOk, PAGING32_MACROS } from '../support/runAsm';

export const GUEST_PAGES = 700;
export const VM_BYTES = 4 * 2 ** 20;
/** Machine frames: less than the two VMs touch (2 × ~710 with their tables and code). */
export const MACHINE_PAGES = 1400;
export const FAST_MEMSCHED = { balancePeriodS: 0.05, samplePeriodS: 0.1, samplePages: 20 };

/** The guest's source: identity-maps 4 MiB, then writes `pages` pages from 1 MiB on — again and again, or once and spin. */
export function guestSource(pages: number, idle: boolean): string {
  return `${PAGING32_MACROS}
.org 0x1000
_start:
    mov rsp, 0x9000
    identity_map32
    enable_paging32
.again:
    mov rcx, 0
.touch:
    mov rax, rcx
    shl rax, 12
    mov qword [0x100000 + rax], rcx
    inc rcx
    cmp rcx, ${pages}
    jne .touch
${idle ? '.spin:\n    jmp .spin' : '    jmp .again'}
`;
}

export function overcommittedInput(memsched: MachineInput['memsched'] = FAST_MEMSCHED, machinePages = MACHINE_PAGES): MachineInput {
  return {
    memoryBytes: machinePages * 4096, quantum: 3_000, maxSteps: 100_000_000, memsched,
    vms: [
      { name: 'busy', mode: 'shadow', program: assembleOk(guestSource(GUEST_PAGES, false)), memoryBytes: VM_BYTES },
      { name: 'idle', mode: 'nested', program: assembleOk(guestSource(GUEST_PAGES, true)), memoryBytes: VM_BYTES },
    ],
  };
}

/** The machine after `steps` instructions (1 M instructions = 1 simulated second = 20 rebalances). */
export function runOvercommitted(steps: number, input: MachineInput = overcommittedInput()): ReturnType<typeof startMachine> {
  const started = startMachine(input);
  const m = started.machine;
  while (!m.stopped && m.icount < steps) m.run(Math.min(200_000, steps - m.icount));
  return started;
}
