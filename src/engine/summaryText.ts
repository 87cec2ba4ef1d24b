// The human-readable run summary (`vmem run`, the VS Code output channel).
import type { RunSummary } from './runner';

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
  return lines.join('\n') + '\n';
}
