// The status bar item's text and tooltip from the selected vCPU, its VM's statistics and its
// paging mode: `$(server-process) vm1/vcpu0 · shadow · 4-level · 1,234 exits`.
import type { StatisticsWire, VmStatisticsWire } from '../../../debugAdapter/viewsProtocol';
import { escapeMarkdown, pagingText, thousands } from '../format';

export interface StatusInput {
  vm: number;
  /** Unknown before the first stop (then the VM alone is named). */
  vcpu?: number;
  /** The guest's paging mode on that vCPU ('none' when paging is off), if known. */
  paging?: string;
  statistics?: StatisticsWire;
  running: boolean;
}

export interface StatusText {
  text: string;
  /** Markdown. */
  tooltip: string;
}

export function vmStatistics(s: StatisticsWire | undefined, vm: number): VmStatisticsWire | undefined {
  return s?.vms.find((v) => v.vm === vm);
}

/** A guest-chosen VM name must not render as an icon: `$(x)` becomes `\$(x)`. */
export function escapeIcons(text: string): string {
  return text.replace(/\$\(/g, '\\$(');
}

export function statusText(i: StatusInput): StatusText {
  const v = vmStatistics(i.statistics, i.vm);
  const name = `${v?.name ?? `vm${i.vm}`}${i.vcpu === undefined ? '' : `/vcpu${i.vcpu}`}`;
  const parts = [name];
  if (v) parts.push(v.mode);
  if (i.paging !== undefined) parts.push(pagingText(i.paging));
  const exits = v?.exits?.total;
  if (exits !== undefined && v?.mode !== 'native') parts.push(`${thousands(exits)} exit${exits === 1 ? '' : 's'}`);
  const text = `$(${i.running ? 'debug-continue' : 'server-process'}) ${parts.map(escapeIcons).join(' · ')}`;
  const lines = [`**${escapeMarkdown(name)}**${i.running ? ' (running)' : ''}${v ? ` · ${escapeMarkdown(v.mode)} mode` : ''}${i.paging !== undefined ? ` · ${pagingText(i.paging)} paging` : ''}`];
  if (v) {
    lines.push(`instructions: ${thousands(v.instructions)}`);
    if (v.exits) {
      const reasons = Object.entries(v.exits.byReason).sort((a, b) => b[1] - a[1]).map(([r, n]) => `${escapeMarkdown(r)}: ${thousands(n)}`);
      lines.push(`VM exits: ${thousands(v.exits.total)}${reasons.length ? ` (${reasons.join(', ')})` : ''}`);
    }
    if (v.faults) lines.push(`page faults: ${thousands(v.faults.pageFaults)} true, ${thousands(v.faults.hiddenFaults)} hidden`);
    if (v.tlb) lines.push(`TLB: ${thousands(v.tlb.hits)} hits, ${thousands(v.tlb.misses)} misses (${(v.tlb.hitRate * 100).toFixed(1)}% hit rate), ${thousands(v.tlb.flushes)} flushes`);
    const mode = Object.entries(v.modeStats);
    if (mode.length) lines.push(mode.map(([k, n]) => `${escapeMarkdown(k)}: ${thousands(n)}`).join(' · '));
  }
  lines.push('', 'Click to open the Address Translation.');
  return { text, tooltip: lines.join('  \n') };
}
