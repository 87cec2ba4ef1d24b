// The `shadow` memory mode: the ModeDefinition the registry (../modes.ts) names. It sets the
// execution controls shadow paging needs and builds, per VM, the shadow tables and one
// ShadowMmu per vCPU over the host TLB.
import { defaultControls } from '../controls';
import type { ExecutionControls } from '../controls';
import type { ModeContext, ModeDefinition, ModeInstance } from '../virtualVm';
import type { ModeOptions } from '../options';
import type { Tlb } from '../../mmu/tlb';
import type { MmuPort } from '../../cpu/mmuPort';
import { CR0_PG, CR0_WP, CR4_LA57, CR4_PAE, CR4_PCIDE, CR4_PGE, CR4_PSE, CR4_SMAP, CR4_SMEP } from '../../mmu/pagingMode';
import { ShadowTables } from './shadowTables';
import { ShadowMmu } from './shadowMmu';
import { auditShadow } from './shadowAudit';
import { PAGE_SIZE } from '../../memory/frame';

/** What a shadow-mode VM exposes beyond the ModeInstance contract (tests, the shadow-table view). */
export interface ShadowInstance extends ModeInstance {
  readonly tables: ShadowTables;
  readonly mmus: ShadowMmu[];
}

export function shadowControls(_options: ModeOptions): ExecutionControls {
  const c = defaultControls();
  c.cr3LoadExiting = true;
  // INVLPG exiting also makes INVPCID exit (as with "enable INVPCID" set).
  c.invlpgExiting = true;
  c.enableVpid = true;
  // #PF is intercepted; the MMU port decides hidden vs true and reports the exit itself.
  c.exceptionBitmap = 1 << 14;
  // Paging-mode bits are host-owned: the VMM sees every change of format or rights rules.
  c.cr0GuestHostMask = (CR0_PG | CR0_WP) >>> 0;
  c.cr4GuestHostMask = CR4_PSE | CR4_PAE | CR4_PGE | CR4_SMEP | CR4_SMAP | CR4_LA57 | CR4_PCIDE;
  return c;
}

export function createShadow(ctx: ModeContext): ShadowInstance {
  const tables = new ShadowTables(ctx.machine, ctx.vmId, ctx.p2m, ctx.options.shadow.sync, ctx.maxPhyAddr);
  const mmus: ShadowMmu[] = [];
  tables.writeProtectHardware = (mpa) => {
    for (const m of mmus) m.writeProtectMappingsOf(mpa);
  };
  // The p2m's mapper: what the shadow built from a guest page's frame — sptes through the rmap,
  // the hardware TLB entries of every vCPU — goes before the frame does (or loses W).
  ctx.p2m.mapper = {
    revoke(ppn: number, to: 'none' | 'read-only'): void {
      const mpn = ctx.p2m.lookup(ppn);
      tables.revoke(ppn, to);
      if (mpn < 0) return;
      for (const m of mmus) {
        if (!m) continue;
        if (to === 'none') m.flushMappingsOf(mpn * PAGE_SIZE);
        else m.writeProtectMappingsOf(mpn * PAGE_SIZE);
      }
    },
  };
  return {
    tables,
    mmus,
    mmuFor(i: number): { port: MmuPort; tlb: Tlb } {
      const { tlb, vpid } = ctx.hostTlb(i);
      const m = new ShadowMmu(ctx, tables, i, tlb, vpid);
      mmus[i] = m;
      return { port: m, tlb };
    },
    audit(): string[] {
      for (const m of mmus) m.settle();
      return auditShadow(ctx, tables, mmus);
    },
    stats(): Record<string, number> {
      const c = tables.counters;
      let hits = 0;
      let misses = 0;
      for (const m of mmus) {
        hits += m.rootStats.hits;
        misses += m.rootStats.misses;
      }
      return {
        'shadow roots reused': hits,
        'shadow roots built': misses,
        'shadow pages': tables.pages.size,
        'shadow leaf fills': c.leafFills,
        'shadow entries zapped': c.zaps,
        'guest page tables traced': tables.traced.size,
      };
    },
  };
}

export const shadowMode: ModeDefinition = {
  mode: 'shadow',
  controls: shadowControls,
  create: createShadow,
};

/** The shadow instance behind a VirtualVm's ModeInstance (undefined for other modes). */
export function asShadowInstance(i: ModeInstance): ShadowInstance | undefined {
  const s = i as Partial<ShadowInstance>;
  return s.tables instanceof ShadowTables ? (i as ShadowInstance) : undefined;
}
