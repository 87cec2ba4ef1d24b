// `vmem experiment <a|b|c|d|all> [--json] [--small]`: runs the overcommit experiments
// (docs/overcommit/experiments.md) and prints each one's table — or all tables as JSON.
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { assemble } from '../engine/isa/assembler';
import { nodeFileProvider } from './nodeFileProvider';
import { EXPERIMENT_IDS, EXPERIMENTS, formatExperiment } from '../engine/memory/overcommit/experiments';
import type { ExperimentId, ExperimentTable, ProgramLoader } from '../engine/memory/overcommit/experiments';

export const EXPERIMENT_USAGE = 'vmem experiment a|b|c|d|all [--json] [--small]   the overcommit experiments\' tables (docs/overcommit/experiments.md)';

/** dist/cli.js and out/src/cli/experiment.js both find the repository's examples/overcommit. */
function examplesDir(): string {
  const candidates = [resolve(__dirname, '../examples/overcommit'), resolve(__dirname, '../../../examples/overcommit')];
  const fs = nodeFileProvider();
  for (const c of candidates) if (fs.read(join(c, 'active.s')) !== undefined) return c;
  throw new Error(`examples/overcommit not found (looked in ${candidates.join(', ')})`);
}

export function programLoader(dir = examplesDir()): ProgramLoader {
  return (file, defines) => {
    const r = assemble(join(dir, file), nodeFileProvider(), { defines });
    if (!r.ok) throw new Error(`${file}: ${r.diagnostics.map((d) => `${d.file}:${d.line}: ${d.message}`).join('; ')}`);
    return r;
  };
}

/** Returns the exit code: 0, or 2 for bad usage. */
export function cmdExperiment(args: string[], out: (s: string) => void, err: (s: string) => void): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false }, small: { type: 'boolean', default: false } } });
  const which = positionals[0];
  if (positionals.length !== 1 || !(which === 'all' || (EXPERIMENT_IDS as readonly string[]).includes(which))) {
    err(`experiment takes one of ${EXPERIMENT_IDS.join(', ')} or all\nusage: ${EXPERIMENT_USAGE}\n`);
    return 2;
  }
  const ids: ExperimentId[] = which === 'all' ? [...EXPERIMENT_IDS] : [which as ExperimentId];
  const load = programLoader();
  const tables: ExperimentTable[] = [];
  for (const id of ids) {
    const t = EXPERIMENTS[id](load, values.small ? 'small' : 'full');
    tables.push(t);
    if (!values.json) out(formatExperiment(t) + '\n');
  }
  if (values.json) out(JSON.stringify(which === 'all' ? { experiments: tables } : tables[0], null, 2) + '\n');
  return 0;
}
