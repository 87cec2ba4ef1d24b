// The human-readable run summary (`vmem run`, the VS Code output channel).
import type { RunSummary } from './runner';
import type { MachineSummary } from './machineRunner';
import type { OvercommitSnapshot } from './memory/overcommit/overcommitSnapshot';

function n(v: number): string {
  return v.toLocaleString('en-US');
}

export function formatSummary(program: string, s: RunSummary): string {
  const lines: string[] = [];
  if (s.console.length > 0) {
    lines.push('--- guest console ---');
    lines.push(s.console.endsWith('\n') ? s.console.slice(0, -1) : s.console);
    lines.push('---------------------');
  }
  lines.push(`${program}: ${s.exit.message} (${s.mode} mode)`);
  lines.push(`instructions   ${n(s.instructions)}`);
  const f = s.faults;
  lines.push(`page faults    ${n(f.pageFaults)} (not present ${n(f.notPresent)}, protection ${n(f.protection)}; read ${n(f.byAccess.read)}, write ${n(f.byAccess.write)}, fetch ${n(f.byAccess.fetch)})`);
  const ex = Object.entries(f.exceptions).map(([k, v]) => `${k} ${n(v)}`).join(', ');
  lines.push(`exceptions     ${ex || 'none'}`);
  lines.push(`interrupts     timer ${n(s.interrupts.timer)}, software ${n(s.interrupts.software)}`);
  lines.push(`TLB            hits ${n(s.tlb.hits)}, misses ${n(s.tlb.misses)} (hit rate ${(s.tlb.hitRate * 100).toFixed(2)}%), flushes ${n(s.tlb.flushes)} (${n(s.tlb.entriesFlushed)} entries)`);
  const ev = s.events;
  lines.push(`events         invlpg ${n(ev.invlpg ?? 0)}, cr3-write ${n(ev['cr3-write'] ?? 0)}, invpcid ${n(ev.invpcid ?? 0)}, tlb-flush ${n(ev['tlb-flush'] ?? 0)}`);
  lines.push(`memory         ${n(s.memory.touchedFrames)} guest frames touched`);
  if (s.mode !== 'native') {
    lines.push(`hidden faults  ${n(s.faults.hiddenFaults)} (handled by the VMM, never seen by the guest)`);
    const ex = Object.entries(s.exits.byReason).map(([k, v]) => `${k} ${n(v)}`).join(', ');
    lines.push(`VM exits       ${n(s.exits.total)}${ex ? ': ' + ex : ''}`);
    const vmm = Object.entries(s.vmm).map(([k, v]) => `${k} ${n(v)}`).join(', ');
    if (vmm) lines.push(`VMM            ${vmm}`);
  }
  const b = s.devices?.balloon;
  if (b) lines.push(`balloon        ${n(b.size)} of target ${n(b.target)} pages; inflated ${n(b.inflated)}, deflated ${n(b.deflated)}, pops ${n(b.pops)}, refused ${n(b.refused)}`);
  const d = s.devices?.guestDisk;
  if (d) lines.push(`guest disk     reads ${n(d.reads)}, writes ${n(d.writes)}, errors ${n(d.errors)}, ${n(d.stallCycles)} cycles waited`);
  return lines.join('\n') + '\n';
}

/**
 * Several runs of one program side by side, one column a mode (`vmem run --compare`). `columns`
 * names the columns when the mode alone does not tell them apart (shadow trace vs unsync).
 */
export function formatComparison(program: string, runs: readonly RunSummary[], columns?: readonly string[]): string {
  const reasons = [...new Set(runs.flatMap((r) => Object.keys(r.exits.byReason)))].sort((a, b) => parseInt(a) - parseInt(b));
  const rows: [string, ...string[]][] = [
    ['', ...runs.map((r, i) => columns?.[i] ?? r.mode)],
    ['exit', ...runs.map((r) => (r.exit.ok ? 'ok' : r.exit.reason))],
    ['instructions', ...runs.map((r) => n(r.instructions))],
    ['true page faults', ...runs.map((r) => n(r.faults.pageFaults))],
    ['hidden page faults', ...runs.map((r) => n(r.faults.hiddenFaults))],
    ['VM exits', ...runs.map((r) => n(r.exits.total))],
    ...reasons.map((k): [string, ...string[]] => [`  ${k}`, ...runs.map((r) => n(r.exits.byReason[k] ?? 0))]),
    ...[...new Set(runs.flatMap((r) => Object.keys(r.vmm)))].map((k): [string, ...string[]] => [k, ...runs.map((r) => (k in r.vmm ? n(r.vmm[k]) : '—'))]),
    ['TLB hit rate', ...runs.map((r) => `${(r.tlb.hitRate * 100).toFixed(2)}%`)],
    ['TLB misses', ...runs.map((r) => n(r.tlb.misses))],
    ['console identical', ...runs.map((r) => (r.console === runs[0].console ? 'yes' : 'NO'))],
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const out = rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  return `${program}\n${out.join('\n')}\n`;
}

/** A multi-VM run: each VM's summary, then the machine's frames by owner and use. */
export function formatMachineSummary(scenario: string, m: MachineSummary): string {
  const parts = m.vms.map((v) => formatSummary(`${scenario} ▸ ${v.name}`, v));
  const owners = Object.entries(m.frames.byOwner)
    .map(([o, c]) => `${o}: ${Object.entries(c).filter(([, k]) => k > 0).map(([u, k]) => `${u} ${n(k)}`).join(', ')}`)
    .join('; ');
  parts.push(`machine        ${n(m.instructions)} instructions, ${m.seconds.toFixed(2)} simulated s; frames ${n(m.frames.total)} (free ${n(m.frames.free)}; ${owners})\n`);
  if (m.overcommit) parts.push(formatOvercommit(m.overcommit));
  return parts.join('\n');
}

function rhoText(rho: number): string {
  return Number.isFinite(rho) ? rho.toPrecision(3) : '∞';
}

/** The memory scheduler at the end of a run: the machine's state, then a row per VM. */
export function formatOvercommit(o: OvercommitSnapshot): string {
  const lines: string[] = [];
  const free = (100 * o.freePages) / o.totalPages;
  lines.push(`memsched       policy ${o.policy}${o.policy === 'shares' ? '' : ` (τ ${o.tau})`}, victims ${o.victim}; state ${o.state}, free ${n(o.freePages)} of ${n(o.totalPages)} pages (${free.toFixed(1)}%); ${n(o.rebalances)} rebalances`);
  const sw = o.swap;
  lines.push(`hypervisor swap ${n(sw.swappedOut)} pages out in ${n(sw.clusters)} clusters, ${n(sw.sharedInstead)} shared instead`);
  const sh = o.sharing;
  if (sh) lines.push(`page sharing   shared frames ${n(sh.pagesShared)}, sharing ${n(sh.pagesSharing)}, zero pages ${n(sh.zeroPages)}, hints ${n(sh.pagesUnshared)}, COW breaks ${n(sh.cowBreaks)}, ${n(sh.pagesScanned)} scanned, ${n(sh.fullScans)} full scans; saved ${n(sh.savedPages)} pages`);
  else lines.push('page sharing   off');
  const rows: string[][] = [['VM', 'private', 'shared', 'ballooned', 'swapped', 'target', 'balloon', 'ws', 'ρ', 'shares', 'swap-ins', 'double paging', 'stall cycles']];
  for (const v of o.vms) {
    rows.push([
      v.name, n(v.pages.private), n(v.pages.shared), n(v.pages.ballooned), n(v.pages.swapped), v.target === null ? '—' : n(v.target),
      v.balloon ? `${n(v.balloon.size)}/${n(v.balloon.target)}${v.balloon.whyNot ? ' (cannot)' : ''}` : 'none',
      v.workingSet === null ? '—' : `${Math.round(v.workingSet * 100)}%`, rhoText(v.rho), n(v.shares), n(v.counters.swapIns), n(v.counters.doublePaging), n(v.stallCycles),
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) lines.push('  ' + r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  for (const v of o.vms) if (v.balloon?.whyNot && v.balloon.target > 0) lines.push(`  ${v.name}: the balloon cannot deliver: ${v.balloon.whyNot}`);
  return lines.join('\n') + '\n';
}
