// An independent model of the expected outcome of one access, transcribed from the
// kvm-unit-tests access.c pseudo-code in the paging reference (§1) plus SMAP. It shares no code
// with the walker: entries are whole bigints, rules are written out flat for the two-level
// shape access.c tests (PDE → PTE, or a PDE leaf). Documented hardware choice both follow:
// non-leaf entries get A as soon as the walk uses them (so PDE.A is set when the PTE faults);
// the leaf gets A/D only when the access succeeds.

export interface ModelInput {
  pde: bigint;
  pte: bigint;
  /** 4-level only: the PDPTE lacks R/W. */
  pdpteReadOnly: boolean;
  user: boolean;
  write: boolean;
  fetch: boolean;
  nxe: boolean;
  wp: boolean;
  smep: boolean;
  smap: boolean;
  ac: boolean;
  /** 4-level (8-byte entries, NX) or 32-bit (4-byte entries, PSE). */
  format: '4level' | '32bit';
  pse: boolean;
  maxPhyAddr: number;
}

export interface ModelResult {
  fault: boolean;
  errorCode: number;
  pde: bigint;
  pte: bigint;
  /** Offset-free physical page address on success (4K: from PTE; large: from PDE). */
  pageBase?: bigint;
  large?: boolean;
}

const B = (n: number): bigint => 1n << BigInt(n);
const has = (e: bigint, n: number): boolean => (e & B(n)) !== 0n;

function reserved64(e: bigint, m: number, nxe: boolean, largePde: boolean): boolean {
  for (let b = m; b <= 51; b++) if (has(e, b)) return true;
  if (!nxe && has(e, 63)) return true;
  if (largePde) for (let b = 13; b <= 20; b++) if (has(e, b)) return true;
  return false;
}

function reserved4M(e: bigint, m: number): boolean {
  const m32 = Math.min(m, 40);
  for (let b = m32 - 19; b <= 21; b++) if (has(e, b)) return true;
  return false;
}

export function expectedAccess(x: ModelInput): ModelResult {
  let err = (x.user ? 4 : 0) | (x.write ? 2 : 0) | (x.fetch ? 16 : 0);
  let pde = x.pde;
  let pte = x.pte;
  const is64 = x.format === '4level';
  const end = (fault: boolean, extra: Partial<ModelResult> = {}): ModelResult => {
    if (!(is64 && x.nxe) && !x.smep) err &= ~16;
    return { fault, errorCode: fault ? err : 0, pde, pte, ...extra };
  };
  // PDE
  if (!has(pde, 0)) return end(true);
  const pdeLarge = is64 ? has(pde, 7) : x.pse && has(pde, 7);
  const pdeRsvd = is64 ? reserved64(pde, x.maxPhyAddr, x.nxe, pdeLarge) : pdeLarge && reserved4M(pde, x.maxPhyAddr);
  if (pdeRsvd) {
    err |= 1 | 8;
    return end(true);
  }
  let w = !(is64 && x.pdpteReadOnly) && has(pde, 1);
  let u = has(pde, 2);
  let xok = !(is64 && has(pde, 63));
  const check = (leaf: 'pde' | 'pte'): boolean => {
    const kw = !x.wp && !x.user;
    const denied =
      (x.user && !u) || (x.write && !w && !kw) || (x.fetch && !xok) ||
      (x.fetch && !x.user && u && x.smep) || (!x.fetch && !x.user && u && x.smap && !x.ac);
    if (denied) {
      err |= 1;
      return false;
    }
    const set = B(5) | (x.write ? B(6) : 0n);
    if (leaf === 'pde') pde |= set;
    else pte |= set;
    return true;
  };
  if (pdeLarge) {
    const ok = check('pde');
    let base: bigint;
    if (is64) base = pde & ((B(x.maxPhyAddr) - 1n) & ~(B(21) - 1n));
    else base = (pde & 0xffc00000n) | (((pde >> 13n) & 0xffn) << 32n);
    return end(!ok, ok ? { pageBase: base, large: true } : {});
  }
  pde |= B(5);
  if (!has(pte, 0)) return end(true);
  const pteRsvd = is64 && reserved64(pte, x.maxPhyAddr, x.nxe, false);
  if (pteRsvd) {
    err |= 1 | 8;
    return end(true);
  }
  w &&= has(pte, 1);
  u &&= has(pte, 2);
  xok &&= !(is64 && has(pte, 63));
  const ok = check('pte');
  const base = is64 ? pte & ((B(x.maxPhyAddr) - 1n) & ~0xfffn) : pte & 0xfffff000n;
  return end(!ok, ok ? { pageBase: base, large: false } : {});
}
