// Runs a batch of cases as one guest program in one memory mode and checks every case against
// the reference model: fault or not, the exact #PF error code, CR2, the CPL and rip of the
// fault, the value a read returned (so the physical page), and the paging entries bit for bit
// as the guest reads them afterwards.
import type { RunOptions, RunSummary } from '../../../../src/engine/runner';
import { runStarted, startProgram } from '../../../../src/engine/runner';
import { availableModes } from '../../../../src/engine/vmm/modes';
import type { MemoryMode } from '../../../../src/engine/vm';
import type { VirtualVmOptions } from '../../../../src/engine/vmm/virtualVm';
import type { GuestMemory } from '../../../../src/engine/memory/guestMemory';
import { expectedAccess } from '../../mmu/referenceModel';
import type { GuestCase } from './cases';
import { entryAddresses } from './cases';
import { accessSites, kernelProgram, retBytes } from './kernel';
import {
  CASE_BYTES, CASE_PD, CASE_PDPT, CASES, dataPages, F, FETCH_OFFSET, FLAG, Format, GUEST_BYTES, MAX_CASES_PER_RUN, NCASES, NO_FAULT, PD32, PML4, READ_OFFSETS, SENTINEL, tagAt,
} from './layout';

export interface ModeConfig {
  label: string;
  mode: MemoryMode;
  modeOptions?: VirtualVmOptions['modeOptions'];
}

/**
 * Native and every registered hypervisor mode except paravirt (its guests write machine frame
 * numbers into their tables, so a case's entries would not mean what the model reads), with the
 * option sets the paging rules must survive: shadow tracing and unsync, nested with 4 KiB EPT
 * pages and with 2 MiB EPT pages plus EPT A/D (guest walks then count as EPT writes). A mode
 * registered later joins with its defaults.
 */
export function conformanceConfigs(): ModeConfig[] {
  const out: ModeConfig[] = [];
  for (const name of availableModes()) {
    const mode = name as MemoryMode;
    if (mode === 'paravirt') continue;
    if (mode === 'shadow') {
      out.push({ label: 'shadow/trace', mode, modeOptions: { shadow: { sync: 'trace' } } });
      out.push({ label: 'shadow/unsync', mode, modeOptions: { shadow: { sync: 'unsync' } } });
    } else if (mode === 'nested') {
      out.push({ label: 'nested/4k-ept', mode, modeOptions: { nested: { eptPageSize: '4k' } } });
      out.push({ label: 'nested/2m-ept,A/D', mode, modeOptions: { nested: { eptPageSize: '2m', accessedDirty: true } } });
    } else out.push({ label: mode, mode });
  }
  return out;
}

/** A fault block as the kernel's handler wrote it. */
export interface FaultRecord {
  vector: number;
  cs: number;
  errorCode: bigint;
  cr2: bigint;
  rip: bigint;
}

export interface CaseResult {
  prime: FaultRecord;
  main: FaultRecord;
  value: bigint;
  pde: bigint;
  pte: bigint;
  pml4e: bigint;
  pdpte: bigint;
}

interface Encoded {
  flags: number;
  cr0: number;
  cr4: number;
  efer: number;
  at: ReturnType<typeof entryAddresses>;
  pml4e: bigint;
  pdpte: bigint;
}

const ROOTS = { pml4: PML4, pdpt: CASE_PDPT, pd32: PD32 };
const ALL_ONES = (1n << 64n) - 1n;

function encode(c: GuestCase): Encoded {
  const long = c.format === '4level';
  const access = c.fetch ? 2 : c.write ? 1 : 0;
  return {
    flags: access | (c.user ? FLAG.user : 0) | (c.twice ? FLAG.twice : 0) | (c.ac ? FLAG.ac : 0) | (c.flush === 'cr3' ? FLAG.cr3 : 0),
    cr0: (0x80000011 | (c.wp ? 0x10000 : 0)) >>> 0,
    cr4: (long ? 0x20 : 0) | (c.pse ? 0x10 : 0) | (c.smep ? 1 << 20 : 0) | (c.smap ? 1 << 21 : 0),
    efer: (long ? 0x100 : 0) | (c.nxe ? 0x800 : 0),
    at: entryAddresses(c, ROOTS),
    // access.c's upper levels: PML4E P|W|U; the PDPTE P|U, W unless the case says read-only.
    pml4e: BigInt(CASE_PDPT | 0x7),
    pdpte: BigInt(CASE_PD | 0x5 | (c.pdpteReadOnly ? 0 : 0x2)),
  };
}

function writeRecords(cases: readonly GuestCase[]): Uint8Array {
  const bytes = new Uint8Array(cases.length * CASE_BYTES);
  const dv = new DataView(bytes.buffer);
  const q = (i: number, off: number, v: bigint | number): void => dv.setBigUint64(i * CASE_BYTES + off, BigInt.asUintN(64, BigInt(v)), true);
  cases.forEach((c, i) => {
    const e = encode(c);
    q(i, F.flags, e.flags);
    q(i, F.cr0, e.cr0);
    q(i, F.cr4, e.cr4);
    q(i, F.efer, e.efer);
    q(i, F.linear, c.linear);
    q(i, F.pml4eAt, e.at.pml4e);
    q(i, F.pml4e, e.pml4e);
    q(i, F.pdpteAt, e.at.pdpte);
    q(i, F.pdpte, e.pdpte);
    q(i, F.pdeAt, e.at.pde);
    q(i, F.pde, c.pde);
    q(i, F.pteAt, e.at.pte);
    q(i, F.pte, c.pte);
    q(i, F.prime, NO_FAULT);
    q(i, F.main, NO_FAULT);
  });
  return bytes;
}

function readResults(bytes: Uint8Array, n: number): CaseResult[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const q = (i: number, off: number): bigint => dv.getBigUint64(i * CASE_BYTES + off, true);
  const fault = (i: number, off: number): FaultRecord => {
    const tag = q(i, off);
    return { vector: Number(tag & 0xffn), cs: Number(tag >> 8n), errorCode: q(i, off + 8), cr2: q(i, off + 16), rip: q(i, off + 24) };
  };
  const out: CaseResult[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      prime: fault(i, F.prime), main: fault(i, F.main), value: q(i, F.value),
      pde: q(i, F.pdeAfter), pte: q(i, F.pteAfter), pml4e: q(i, F.pml4eAfter), pdpte: q(i, F.pdpteAfter),
    });
  }
  return out;
}

/**
 * Tags the data pages (at READ_OFFSETS) and puts a `ret` at FETCH_OFFSET, as the loader places
 * a program: host-side, before the first instruction, so the audit-every-instruction runs do not
 * spend their budget on a fill loop. The pages are backed but not yet mapped by any shadow or
 * EPT entry: the cases' own accesses take those exits.
 */
function tagDataPages(mem: GuestMemory): void {
  const ret = retBytes();
  for (const page of dataPages()) {
    for (const off of READ_OFFSETS) {
      const tag = tagAt(page + off);
      mem.write32(page + off, Number(tag & 0xffffffffn));
      mem.write32(page + off + 4, Number(tag >> 32n));
    }
    mem.writeBytes(page + FETCH_OFFSET, ret);
  }
}

export interface BatchRun {
  summary: RunSummary;
  results: CaseResult[];
  /** Guest instructions retired. */
  instructions: number;
  /** The last case's PDE and PTE read host-side from guest-physical memory after the run (what the guest copied must be the same). */
  lastEntries: { pde: bigint; pte: bigint };
}

/** Runs cases (all of one format and one MAXPHYADDR) as one guest program in one configuration. */
export function runBatch(cfg: ModeConfig, format: Format, maxPhyAddr: number, cases: readonly GuestCase[], extra: RunOptions = {}): BatchRun {
  if (cases.length > MAX_CASES_PER_RUN) throw new RangeError(`at most ${MAX_CASES_PER_RUN} cases per run`);
  const options: RunOptions = {
    memoryBytes: GUEST_BYTES, machineBytes: 2 * GUEST_BYTES, maxPhyAddr, mode: cfg.mode, modeOptions: cfg.modeOptions, maxSteps: 400 + cases.length * 400 + 64 * 1024, ...extra,
  };
  const started = startProgram(kernelProgram(format), options);
  const mem = started.vm.mem;
  tagDataPages(mem);
  mem.writeBytes(CASES, writeRecords(cases));
  mem.write32(NCASES, cases.length);
  mem.write32(NCASES + 4, 0);
  const summary = runStarted(started, options);
  const results = readResults(mem.readBytes(CASES, cases.length * CASE_BYTES), cases.length);
  const last = cases[cases.length - 1];
  const at = entryAddresses(last, ROOTS);
  const entry = (gpa: number): bigint => (last.format === '4level' ? (BigInt(mem.read32(gpa + 4)) << 32n) | BigInt(mem.read32(gpa)) : BigInt(mem.read32(gpa)));
  return { summary, results, instructions: started.vm.icount, lastEntries: { pde: entry(at.pde), pte: entry(at.pte) } };
}

const hex = (v: bigint | number): string => '0x' + v.toString(16);

export function describeCase(c: GuestCase): string {
  const access = c.fetch ? 'fetch' : c.write ? 'write' : 'read';
  return `${c.format} M=${c.maxPhyAddr}${c.format === '32bit' ? ` pse=${c.pse}` : ''} pde=${hex(c.pde)} pte=${hex(c.pte)}` +
    `${c.pdpteReadOnly ? ' pdpteRO' : ''} CPL${c.user ? 3 : 0} ${access}${c.twice ? ' (primed)' : ''} nxe=${+c.nxe} wp=${+c.wp} smep=${+c.smep} smap=${+c.smap} ac=${+c.ac}` +
    ` lin=${hex(c.linear)} flush=${c.flush}`;
}

function describeFault(f: FaultRecord): string {
  if (f.vector === NO_FAULT) return 'no fault';
  const err = f.errorCode === ALL_ONES ? '' : `(${hex(f.errorCode)})`;
  return `vector ${f.vector}${err} cr2=${hex(f.cr2)} rip=${hex(f.rip)} cs=${hex(f.cs)}`;
}

/** The fault a #PF with this error code at this address would leave, in words. */
function wantPf(errorCode: number, linear: number, cs: number): string {
  return `vector 14(${hex(errorCode)}) cr2=${hex(linear)} cs=${hex(cs)}`;
}

/**
 * Every way the guest's observations differ from the reference model, in words (empty: the
 * case passes). Strict on the PDE: the model's hardware choice (PDE.A set by a walk that then
 * faults at the PTE) is what native does, so every mode must do it too, although access.c
 * itself would accept either value of PDE.A on a fault.
 */
export function checkCase(c: GuestCase, r: CaseResult): string[] {
  const problems: string[] = [];
  const sites = accessSites(c.format);
  const kind = c.fetch ? 2 : c.write ? 1 : 0;
  let state = { pde: c.pde, pte: c.pte };
  if (c.twice) {
    const prime = expectedAccess({ ...c, user: false, write: false, fetch: false, ac: false });
    if (prime.fault) {
      const ok = r.prime.vector === 14 && r.prime.errorCode === BigInt(prime.errorCode) && r.prime.cr2 === BigInt(c.linear) && r.prime.cs === 0x08 && r.prime.rip === BigInt(sites.prime);
      if (!ok) problems.push(`priming read: want ${wantPf(prime.errorCode, c.linear, 0x08)}, got ${describeFault(r.prime)}`);
    } else if (r.prime.vector !== NO_FAULT) problems.push(`priming read: want no fault, got ${describeFault(r.prime)}`);
    state = { pde: prime.pde, pte: prime.pte };
  } else if (r.prime.vector !== NO_FAULT) problems.push(`no priming read, yet a fault recorded for it: ${describeFault(r.prime)}`);

  const want = expectedAccess({ ...c, ...state });
  const cs = c.user ? 0x1b : 0x08;
  if (want.fault) {
    // A fetch faults at its target (the call itself completed); a data access at its instruction.
    const rip = BigInt(kind === 2 ? c.linear : (c.user ? sites.user : sites.kernel)[kind]);
    const ok = r.main.vector === 14 && r.main.errorCode === BigInt(want.errorCode) && r.main.cr2 === BigInt(c.linear) && r.main.cs === cs && r.main.rip === rip;
    if (!ok) problems.push(`access: want ${wantPf(want.errorCode, c.linear, cs)} rip=${hex(rip)}, got ${describeFault(r.main)}`);
    if (kind === 0 && r.value !== SENTINEL) problems.push(`a faulting read changed rax to ${hex(r.value)}`);
  } else {
    const size = want.large ? (c.format === '4level' ? 2 ** 21 : 2 ** 22) : 4096;
    const gpa = Number((want.pageBase ?? 0n) + BigInt(c.linear % size));
    const inMemory = gpa < GUEST_BYTES;
    if (kind === 2 && !inMemory) {
      // No memory behind the page: the fetch reads 0xff bytes, an invalid opcode, at the target.
      if (r.main.vector !== 6 || r.main.rip !== BigInt(c.linear) || r.main.cs !== cs) problems.push(`access: want #UD at ${hex(c.linear)} (fetch from gpa ${hex(gpa)}, beyond memory), got ${describeFault(r.main)}`);
    } else if (r.main.vector !== NO_FAULT) problems.push(`access: want no fault (gpa ${hex(gpa)}), got ${describeFault(r.main)}`);
    if (kind === 0) {
      const value = inMemory ? tagAt(gpa) : ALL_ONES;
      if (r.value !== value) problems.push(`read returned ${hex(r.value)}, want ${hex(value)} (gpa ${hex(gpa)})`);
    }
  }
  if (r.pde !== want.pde) problems.push(`PDE after: want ${hex(want.pde)}, got ${hex(r.pde)}`);
  if (r.pte !== want.pte) problems.push(`PTE after: want ${hex(want.pte)}, got ${hex(r.pte)}`);
  if (c.format === '4level') {
    const e = encode(c);
    // Always present and valid: every walk uses them, so both have A (and never D).
    if (r.pml4e !== (e.pml4e | 0x20n)) problems.push(`PML4E after: want ${hex(e.pml4e | 0x20n)}, got ${hex(r.pml4e)}`);
    if (r.pdpte !== (e.pdpte | 0x20n)) problems.push(`PDPTE after: want ${hex(e.pdpte | 0x20n)}, got ${hex(r.pdpte)}`);
  }
  return problems;
}
