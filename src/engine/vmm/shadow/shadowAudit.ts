// The MMU audit for shadow mode (issue 3 item 6; KVM's old mmu_audit.c in spirit). From every
// cached root it walks the shadow tables and checks, with side-effect-free guest walks:
//  - each present leaf spte of a synced page maps its gva to p2m(guest walk(gva)), with rights no
//    greater than the guest's (a CR0.WP=0 spte may add W only with U cleared, while WP=0);
//  - no writable spte maps a traced guest page-table frame;
//  - every shadow frame and every frame a spte maps belongs to the VM, with the right use — or is
//    a shared frame the p2m maps for that guest page, and then the spte is read-only (COW);
//  - every leaf spte (unsync ones too) maps what the p2m maps for its guest frame now: a page
//    swapped, ballooned or remapped has no spte left (the p2m mapper revoked them);
//  - every hardware TLB entry of the VM's vCPUs maps a frame of the VM (or a shared frame
//    read-only), and the p2m's current frame for the guest frame it was made from;
//  - frame accounting adds up (free + owned = total).
import type { ModeContext } from '../virtualVm';
import { walkPageTables } from '../../mmu/walker';
import type { WalkContext } from '../../mmu/walker';
import { PAGE_SIZE } from '../../memory/frame';
import { SPTE_P, SPTE_U, SPTE_W, SPTE_XD_HI, levelShift } from './spteFormat';
import type { ShadowPage, ShadowTables } from './shadowTables';
import type { ShadowMmu, RootEntry } from './shadowMmu';

const MAX_PROBLEMS = 20;

export function auditShadow(ctx: ModeContext, tables: ShadowTables, mmus: readonly ShadowMmu[]): string[] {
  const out: string[] = [];
  const add = (s: string): void => {
    if (out.length < MAX_PROBLEMS) out.push(s);
  };
  const frames = ctx.machine.frames;
  for (const sp of tables.pages.values()) {
    if (frames.ownerOf(sp.mpn) !== ctx.vmId || frames.useOf(sp.mpn) !== 'shadow-pt') {
      add(`shadow page ${sp.key} in machine frame ${sp.mpn} is owned by ${frames.ownerOf(sp.mpn)} as ${frames.useOf(sp.mpn)}`);
    }
  }
  for (const gfn of tables.traced.keys()) {
    const mpn = ctx.p2m.lookup(gfn);
    if (mpn >= 0 && frames.useOf(mpn) !== 'guest-pt') add(`traced guest frame ${gfn} (machine ${mpn}) is marked ${frames.useOf(mpn)}, not guest-pt`);
  }
  const census = frames.census();
  let owned = 0;
  for (const rec of census.byOwner.values()) for (const [use, n] of Object.entries(rec)) if (use !== 'free') owned += n;
  if (census.free + owned !== frames.total) add(`frame accounting: ${census.free} free + ${owned} owned != ${frames.total}`);
  for (const m of mmus) if (m) for (const p of m.auditTlb()) add(p);
  const f = tables.format;
  if (!f) return out;
  for (const m of mmus) {
    if (!m || m.mode === 'none') continue;
    for (const root of m.roots) {
      if (tables.pages.get(root.sp.key) !== root.sp) {
        add(`vCPU ${m.index}: cached root for guest CR3 0x${root.guestCr3.toString(16)} points at a freed shadow page`);
        continue;
      }
      const g: WalkContext = { ...m.guestCtx, cr3: root.guestCr3, pdpteLo: root.pdpteLo, pdpteHi: root.pdpteHi };
      auditTree(ctx, tables, g, root, root.sp, 0, add);
    }
  }
  return out;
}

function auditTree(ctx: ModeContext, tables: ShadowTables, g: WalkContext, root: RootEntry, sp: ShadowPage, base: number, add: (s: string) => void): void {
  const f = tables.format!;
  const frames = ctx.machine.frames;
  const n = sp.gfn < 0 && sp.direct ? 4 : f.entries;
  const span = 2 ** levelShift(f, sp.level);
  for (let i = 0; i < n; i++) {
    const { lo, hi } = tables.readSpte(sp, i);
    if (!(lo & SPTE_P)) continue;
    const target = ((hi & 0xfffff) * 2 ** 32 + ((lo & 0xfffff000) >>> 0)) / PAGE_SIZE;
    const gva = base + i * span;
    if (sp.level > 1) {
      const c = sp.children.get(i);
      if (!c || c.mpn !== target) {
        add(`non-leaf spte ${sp.key}[${i}] points at machine frame ${target}, not at a known shadow page`);
        continue;
      }
      auditTree(ctx, tables, g, root, c, gva, add);
      continue;
    }
    const hex = `0x${gva.toString(16)}`;
    const gfn = sp.leafGfn[i];
    const shared = target !== tables.holeMpn && frames.useOf(target) === 'shared';
    if (target !== tables.holeMpn && frames.ownerOf(target) !== ctx.vmId && !shared) add(`spte for gva ${hex} maps machine frame ${target}, owned by ${frames.ownerOf(target)}`);
    if ((lo & SPTE_W) && tables.isTraced(gfn)) add(`writable spte for gva ${hex} maps traced guest page table (gfn ${gfn})`);
    if ((lo & SPTE_W) && shared) add(`writable spte for gva ${hex} maps shared machine frame ${target} (gfn ${gfn}): copy-on-write needs it read-only`);
    const now = tables.currentFrame(gfn);
    if (now !== target) add(`spte for gva ${hex} maps machine frame ${target} for gfn ${gfn}, which the p2m maps to ${now < 0 ? `nothing (${ctx.p2m.stateOf(gfn)})` : now}: a revocation missed it`);
    // Unsync pages may lag the guest until the next INVLPG / CR3 write: that is the point.
    if (sp.unsync) continue;
    const rec = walkPageTables({ read32: (a) => ctx.guest.read32(a), writeAccessedDirty: () => undefined }, g, gva, 'read', false, { setAccessedDirty: false, ac: true });
    if (!rec.ok) {
      add(`spte for gva ${hex} is present but the guest walk fails (${rec.reason})`);
      continue;
    }
    const wantGfn = Math.floor((rec.physical ?? 0) / PAGE_SIZE);
    const wantMpn = wantGfn < ctx.p2m.pages ? ctx.p2m.lookup(wantGfn) : tables.holeMpn;
    if (wantGfn !== gfn || wantMpn !== target) add(`spte for gva ${hex} maps machine frame ${target} (gfn ${gfn}); guest walk says gfn ${wantGfn} → machine ${wantMpn}`);
    const r = rec.rights!;
    const w = (lo & SPTE_W) !== 0;
    const u = (lo & SPTE_U) !== 0;
    const x = !(f.xd && hi & SPTE_XD_HI);
    const trick = tables.tricks.has(sp.mpn * PAGE_SIZE + i);
    if (w && !r.write && !(trick && !g.wp && !u)) add(`spte for gva ${hex} is writable; the guest's is not`);
    if (u && !r.user) add(`spte for gva ${hex} is user-accessible; the guest's is not`);
    if (x && !r.execute) add(`spte for gva ${hex} is executable; the guest's is not`);
  }
}
