// An EPT-induced VM exit raised in the middle of a translation: thrown by the EPT table memory
// (or the final translation) to abort the access, caught by the nested MMU port, which hands
// it to the VMM and then re-executes the access — as VM entry re-executes the instruction.
import { EptQual } from '../exitReasons';
import type { SecondStageWalk } from '../../mmu/walkRecord';
import type { EptFault, EptAccess } from './ept';
import type { EptRights } from './eptFormat';

/** What the guest was doing when the EPT walk failed. */
export interface EptAccessContext {
  /** The guest-physical address that failed. */
  gpa: number;
  /** The guest-linear address being translated; undefined for PDPTE loads (bit 7 clear). */
  linear: number | undefined;
  /** true: the final translation of a linear address; false: a guest paging-structure access. */
  final: boolean;
  /** What the EPT was asked for. */
  access: EptAccess;
  /** A paging-structure access that writes (A/D update, or any walk access with EPT A/D on): read-modify-write. */
  readModifyWrite: boolean;
  /** Final translations: the guest's effective rights for the linear address (advanced exit info). */
  guest?: { user: boolean; write: boolean; executeDisable: boolean };
}

export class EptExit {
  constructor(
    readonly fault: EptFault,
    readonly context: EptAccessContext,
    readonly walk: SecondStageWalk,
  ) {}

  get isMisconfig(): boolean {
    return this.fault.kind === 'misconfig';
  }
}

/**
 * The EPT-violation exit qualification (SDM table 28-7): bits 0–2 the access (a
 * read-modify-write of a guest paging-structure entry sets both 0 and 1), 3–5 the EPT rights
 * ANDed over the walk, 6 user-execute (no MBEC: 0), 7 guest-linear valid, 8 final translation
 * vs paging-structure access, 9–11 (only with 7 and 8) the guest's U/S, R/W and XD for the
 * linear address, 12 NMI unblocking (never: this machine has no NMIs).
 */
export function eptViolationQualification(ctx: EptAccessContext, rights: EptRights): number {
  let q = 0;
  if (ctx.access === 'read' || ctx.readModifyWrite) q |= EptQual.READ;
  if (ctx.access === 'write' || ctx.readModifyWrite) q |= EptQual.WRITE;
  if (ctx.access === 'fetch') q |= EptQual.FETCH;
  if (rights.read) q |= EptQual.READABLE;
  if (rights.write) q |= EptQual.WRITABLE;
  if (rights.execute) q |= EptQual.EXECUTABLE;
  if (ctx.linear !== undefined) {
    q |= EptQual.LINEAR_VALID;
    if (ctx.final) {
      q |= EptQual.FINAL_TRANSLATION;
      const g = ctx.guest;
      if (g) {
        if (g.user) q |= EptQual.USER_MODE_LINEAR;
        if (g.write) q |= EptQual.RW_LINEAR;
        if (g.executeDisable) q |= EptQual.XD_LINEAR;
      }
    }
  }
  return q;
}
