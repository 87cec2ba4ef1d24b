// The seeded case generators of the paging conformance suite: a sample of the access.c product
// space (PDE/PTE flags, reserved bits, CR0.WP, CR4.SMEP/SMAP, RFLAGS.AC, EFER.NXE, user or
// supervisor, read/write/fetch, a priming read). Shared by the bare-MMU test
// (conformance.test.ts) and the guest-program run in every hypervisor mode
// (test/engine/vmm/conformance), so the same seed gives the same cases in both.
import type { ModelInput } from './referenceModel';
import { bit } from './testUtil';

export interface Case extends ModelInput {
  linear: number;
  twice: boolean;
}

function flagBits(r: () => number, pP: number, names: [number, number][]): bigint {
  let e = 0n;
  for (const [b, p] of names) if (r() < (b === 0 ? pP : p)) e |= bit(b);
  return e;
}

export function generate4Level(r: () => number): Case {
  const maxPhyAddr = [36, 40, 52][Math.floor(r() * 3)];
  const rsvd = (b: number): number => (b >= maxPhyAddr && b <= 51 ? 0.12 : 0);
  const ps = r() < 0.35;
  let pde = flagBits(r, 0.88, [[0, 0], [1, 0.6], [2, 0.6], [5, 0.5], [6, 0.5], [63, 0.2], [51, rsvd(51)], [36, rsvd(36)]]);
  if (ps) {
    pde |= bit(7) | (r() < 0.1 ? bit(13 + Math.floor(r() * 8)) : 0n) | (BigInt(1 + Math.floor(r() * 255)) << 21n); // a 2 MiB frame below 512 MiB
  } else pde |= 0x3000n;
  let pte = flagBits(r, 0.88, [[0, 0], [1, 0.6], [2, 0.6], [5, 0.5], [6, 0.5], [63, 0.2], [51, rsvd(51)], [36, rsvd(36)]]);
  pte |= BigInt(0x10 + Math.floor(r() * 0xfff0)) << 12n;
  const fetch = r() < 0.3;
  const linear = Math.floor(r() * 2 ** 47);
  return {
    format: '4level', pse: true, maxPhyAddr, pde, pte, pdpteReadOnly: r() < 0.2,
    user: r() < 0.5, write: !fetch && r() < 0.5, fetch, nxe: r() < 0.6, wp: r() < 0.5,
    smep: r() < 0.3, smap: r() < 0.3, ac: r() < 0.5, linear, twice: r() < 0.3,
  };
}

export function generate32Bit(r: () => number): Case {
  const maxPhyAddr = [32, 36, 40, 52][Math.floor(r() * 4)];
  const pse = r() < 0.7;
  const ps = r() < 0.4;
  let pde = flagBits(r, 0.88, [[0, 0], [1, 0.6], [2, 0.6], [5, 0.5], [6, 0.5]]);
  // A 4 MiB leaf's address bits are the frame plus PSE-36 bits 20:13 and reserved bit 21.
  // Without CR4.PSE, PS is ignored and the PDE still points at the page table.
  if (ps && pse) pde |= bit(7) | (BigInt(Math.floor(r() * 1024)) << 22n) | (r() < 0.5 ? BigInt(Math.floor(r() * 512)) << 13n : 0n);
  else pde |= 0x2000n | (ps ? bit(7) : 0n);
  let pte = flagBits(r, 0.88, [[0, 0], [1, 0.6], [2, 0.6], [5, 0.5], [6, 0.5]]);
  pte |= BigInt(0x10 + Math.floor(r() * 0xffff0)) << 12n;
  const fetch = r() < 0.3;
  return {
    format: '32bit', pse, maxPhyAddr, pde, pte, pdpteReadOnly: false,
    user: r() < 0.5, write: !fetch && r() < 0.5, fetch, nxe: r() < 0.5, wp: r() < 0.5,
    smep: r() < 0.3, smap: r() < 0.3, ac: r() < 0.5, linear: Math.floor(r() * 2 ** 32), twice: r() < 0.3,
  };
}
