// An experiment's table as text: the title, the expected shape, an aligned table, the columns'
// meanings and the run parameters — what `vmem experiment` prints.
import type { Cell, ExperimentTable } from './experimentTypes';

function cell(v: Cell): string {
  if (v === null) return '-';
  if (typeof v === 'boolean') return v ? 'yes' : 'NO';
  return String(v);
}

export function formatExperiment(t: ExperimentTable): string {
  const header = t.columns.map((c) => c.label);
  const body = t.rows.map((r) => t.columns.map((c) => cell(r[c.key] ?? null)));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const out = [t.title, '='.repeat(t.title.length), `expected: ${t.expected}`, '', line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), ''];
  out.push('columns:');
  for (const c of t.columns) out.push(`  ${c.label.padEnd(Math.max(...header.map((h) => h.length)))}  ${c.meaning}`);
  out.push('run:');
  for (const n of t.notes) out.push(`  - ${n}`);
  out.push(t.auditViolations.length === 0 ? 'MMU audit: clean at the end of every run' : `MMU audit: ${t.auditViolations.length} violation(s):\n  ${t.auditViolations.join('\n  ')}`);
  return out.join('\n') + '\n';
}
