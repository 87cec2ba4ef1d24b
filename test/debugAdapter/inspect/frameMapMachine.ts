// A real machine with guest pages in every p2m state, built with the engine's own operations
// (back, shareInPlace/shareWith, swapOut, balloon): the frame-map payload tests and the Machine
// Memory webview's Chromium tests both draw from it, so the webview sees only what the engine made.
//
// Layout (pages of 4 KiB; two VMs "alpha" and "beta", 64 pages each unless asked for more):
//   alpha: 0–3 private · 4–5 shared (one frame S, also mapped by beta 4: 3 references)
//          6–7 swapped · 8–9 ballooned · 10– unbacked
//   beta:  0–1 private · 2 swapped · 3 ballooned · 4 shared (S) · 5 shared (Z, the zero page, 1 ref)
//          6– unbacked
import { Machine } from '../../../src/engine/machine/machine';
import { createVirtualVm } from '../../../src/engine/vmm/virtualVm';
import type { VirtualMode, VirtualVm } from '../../../src/engine/vmm/virtualVm';
import { P2mGuestMemory } from '../../../src/engine/vmm/p2m';
import { createInspectTarget } from '../../../src/debugAdapter/inspect/target';
import type { InspectTarget } from '../../../src/debugAdapter/inspect/target';

const PAGE = 4096;
export const GUEST_PAGES = 64;

export interface StatesMachine {
  machine: Machine;
  target: InspectTarget;
  alpha: VirtualVm;
  beta: VirtualVm;
  /** The shared frame mapped by alpha 4, alpha 5 and beta 4. */
  sharedMpn: number;
  /** beta 5's shared zero frame. */
  zeroMpn: number;
}

function fill(v: VirtualVm, ppn: number, byte: number): void {
  const g = new P2mGuestMemory(v.p2m);
  for (let i = 0; i < PAGE; i += 512) g.write8(ppn * PAGE + i, byte);
}

function must(ok: boolean, v: VirtualVm): void {
  if (!ok) throw new Error(v.p2m.lastRefusal);
}

export function statesMachine(mode: VirtualMode = 'shadow', guestPages = GUEST_PAGES): StatesMachine {
  const machine = new Machine({ memoryBytes: 4 * 1024 * 1024, quantum: 1_000 });
  const alpha = createVirtualVm(machine, mode, { memoryBytes: guestPages * PAGE, name: 'alpha' });
  const beta = createVirtualVm(machine, mode, { memoryBytes: guestPages * PAGE, name: 'beta' });
  for (let p = 0; p < 10; p++) fill(alpha, p, 0x10 + p);
  // alpha 4, alpha 5 and beta 4 hold equal contents: the scanner would share them.
  fill(alpha, 5, 0x14);
  for (let p = 0; p < 5; p++) fill(beta, p, p === 4 ? 0x14 : 0x40 + p);
  beta.p2m.back(5);
  const sharedMpn = alpha.p2m.shareInPlace(4);
  if (sharedMpn < 0) throw new Error(alpha.p2m.lastRefusal);
  must(alpha.p2m.shareWith(5, sharedMpn), alpha);
  must(beta.p2m.shareWith(4, sharedMpn), beta);
  const zeroMpn = beta.p2m.shareInPlace(5);
  if (zeroMpn < 0) throw new Error(beta.p2m.lastRefusal);
  for (const p of [6, 7]) must(alpha.p2m.swapOut(p), alpha);
  for (const p of [8, 9]) must(alpha.p2m.balloon(p), alpha);
  must(beta.p2m.swapOut(2), beta);
  must(beta.p2m.balloon(3), beta);
  const target = createInspectTarget(machine, [{ vm: alpha.vm, name: 'alpha' }, { vm: beta.vm, name: 'beta' }]);
  return { machine, target, alpha, beta, sharedMpn, zeroMpn };
}
