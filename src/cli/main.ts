// `vmem`: the headless runner (docs/cli.md). Exit codes: 0 the guest ended normally,
// 1 it did not (triple fault, non-zero status, step bound reached), 2 bad usage or input.
import { parseArgs } from 'node:util';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseScenario, ScenarioError } from '../engine/scenario';
import type { Scenario } from '../engine/scenario';
import { AdmissionRefused, programMachineInput, runMachine, scenarioMachineInput } from '../engine/machineRunner';
import type { MachineInput, MachineRunOptions, MachineSummary } from '../engine/machineRunner';
import { assemble, listing } from '../engine/isa/assembler';
import type { AssembleResult, Diagnostic } from '../engine/isa/assembler';
import { DEFAULT_MAX_STEPS, eventToJson, runProgram } from '../engine/runner';
import type { RunSummary } from '../engine/runner';
import type { EngineEvent } from '../engine/events';
import { nodeFileProvider } from './nodeFileProvider';
import { formatComparison, formatMachineSummary, formatSummary } from '../engine/summaryText';
import { availableModes } from '../engine/vmm/modes';
import type { MemoryMode } from '../engine/vm';
import type { RunOptions } from '../engine/runner';
import { parseTargetSchedule } from '../engine/memory/overcommit/balloon/targetSchedule';
import type { TargetStep } from '../engine/memory/overcommit/balloon/balloonDevice';
import { cmdExperiment, EXPERIMENT_USAGE } from './experiment';

const USAGE = `usage:
  vmem run FILE [--mode native|shadow|nested|paravirt] [--compare MODE,MODE...] [--max-steps N]
               [--json] [--trace FILE.jsonl] [--tlb-entries N] [--tlb-ways N] [--memory MiB]
               [--define NAME=VALUE]... [--shadow-sync trace|unsync] [--ept-page 4k|2m|1g]
               [--ept-ad] [--no-vpid] [--walk-caches] [--audit] [--balloon-target S:PAGES,...]
               [--machine-memory MiB]
  vmem asm FILE [--define NAME=VALUE]...   print a listing, or the diagnostics (exit 1 on errors)
  ${EXPERIMENT_USAGE}
  vmem help`;

function fail(message: string, code = 2): never {
  process.stderr.write(`vmem: ${message}\n`);
  process.exit(code);
}

function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`;
}

/** --define NAME=VALUE → assembler symbols (e.g. PAGING=32 picks the kernel's paging variant). */
function parseDefines(items: string[] | undefined): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const item of items ?? []) {
    const m = /^([A-Za-z_.][\w.]*)=(.+)$/.exec(item);
    let v: bigint | undefined;
    try {
      v = m ? BigInt(m[2].replace(/_/g, '')) : undefined;
    } catch {
      v = undefined;
    }
    if (!m || v === undefined) fail(`--define expects NAME=NUMBER (e.g. PAGING=32), got '${item}'`);
    out[m[1]] = v;
  }
  return out;
}

function assembleFile(file: string, defines: Record<string, bigint>): AssembleResult {
  const path = resolve(file);
  if (!existsSync(path)) fail(`no such file: ${file}`);
  return assemble(path, nodeFileProvider(), { defines });
}

function positiveInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) fail(`--${name} expects a positive whole number, got '${v}'`);
  return n;
}

function cmdRun(args: string[]): void {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      mode: { type: 'string', default: 'native' },
      'max-steps': { type: 'string' },
      json: { type: 'boolean', default: false },
      trace: { type: 'string' },
      'tlb-entries': { type: 'string' },
      'tlb-ways': { type: 'string' },
      memory: { type: 'string' },
      define: { type: 'string', short: 'D', multiple: true },
      compare: { type: 'string' },
      'shadow-sync': { type: 'string' },
      'ept-page': { type: 'string' },
      'ept-ad': { type: 'boolean', default: false },
      'no-vpid': { type: 'boolean', default: false },
      'walk-caches': { type: 'boolean', default: false },
      audit: { type: 'boolean', default: false },
      'balloon-target': { type: 'string' },
      'machine-memory': { type: 'string' },
    },
  });
  if (positionals.length !== 1) fail(`run takes one guest program\n${USAGE}`);
  const modes = availableModes();
  const checkMode = (m: string): MemoryMode => {
    if (!modes.includes(m)) fail(`--mode '${m}' is not one of the available modes: ${modes.join(', ')}`);
    return m as MemoryMode;
  };
  const mode = checkMode(values.mode ?? 'native');
  const compare = values.compare === undefined ? undefined : values.compare.split(',').map((m) => checkMode(m.trim()));
  if (compare !== undefined && compare.length < 1) fail('--compare expects a comma-separated list of modes, e.g. shadow,nested');
  const sync = values['shadow-sync'] ?? 'trace';
  if (sync !== 'trace' && sync !== 'unsync') fail(`--shadow-sync expects trace or unsync, got '${sync}'`);
  const eptPage = values['ept-page'] ?? '4k';
  if (eptPage !== '4k' && eptPage !== '2m' && eptPage !== '1g') fail(`--ept-page expects 4k, 2m or 1g, got '${eptPage}'`);
  const maxSteps = positiveInt('max-steps', values['max-steps'], DEFAULT_MAX_STEPS);
  const entries = positiveInt('tlb-entries', values['tlb-entries'], 64);
  const ways = positiveInt('tlb-ways', values['tlb-ways'], 4);
  if (entries % ways !== 0 || (entries / ways) & (entries / ways - 1)) fail(`--tlb-entries / --tlb-ways must be a power of two (got ${entries}/${ways})`);
  const memoryMiB = positiveInt('memory', values.memory, 64);
  const trace = values.trace ? createWriteStream(values.trace) : undefined;
  const traceMachine = trace ? (vm: string, e: EngineEvent): void => void trace.write(`{"vm":${JSON.stringify(vm)},${eventToJson(e).slice(1)}\n`) : undefined;
  if (positionals[0].endsWith('.json')) {
    if (values['machine-memory'] !== undefined) fail('--machine-memory is for one program; a scenario sets machine.memoryMiB');
    runScenario(positionals[0], values.json === true, values['max-steps'] === undefined ? undefined : maxSteps, { entries, ways }, { trace: traceMachine, audit: values.audit });
    trace?.end();
    return;
  }
  const result = assembleFile(positionals[0], parseDefines(values.define));
  for (const d of result.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  if (!result.ok) fail(`${positionals[0]}: assembly failed`, 2);
  let balloonSchedule: TargetStep[] | undefined;
  if (values['balloon-target'] !== undefined) {
    try {
      balloonSchedule = parseTargetSchedule(values['balloon-target']);
    } catch (e) {
      fail(`--balloon-target: ${(e as Error).message}`);
    }
  }
  const base: RunOptions = {
    maxSteps,
    devices: balloonSchedule ? { balloon: { schedule: balloonSchedule } } : undefined,
    audit: values.audit,
    memoryBytes: memoryMiB * 1024 * 1024,
    tlb: { entries, ways },
    modeOptions: {
      shadow: { sync },
      nested: { eptPageSize: eptPage, accessedDirty: values['ept-ad'], vpid: !values['no-vpid'], walkCaches: values['walk-caches'] },
    },
  };
  if (values['machine-memory'] !== undefined) {
    const machineMiB = positiveInt('machine-memory', values['machine-memory'], 64);
    if (compare !== undefined) fail('--machine-memory goes with one mode, not --compare');
    if (mode === 'native') fail('--machine-memory puts the program in a VM on a machine of that size: pick a hypervisor mode (--mode shadow, nested or paravirt)');
    runOnMachine(positionals[0], programMachineInput(result, { mode, memoryBytes: base.memoryBytes, modeOptions: base.modeOptions, devices: base.devices, tlb: base.tlb, machineBytes: machineMiB * 2 ** 20, maxSteps }), values.json === true, { trace: traceMachine, audit: values.audit });
    trace?.end();
    return;
  }
  if (compare !== undefined) {
    if (values.trace) fail('--trace goes with one mode, not --compare');
    const runs = compare.map((m) => runProgram(result, { ...base, mode: m }));
    if (values.json) process.stdout.write(JSON.stringify({ program: positionals[0], runs }, (_k, v) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v), 2) + '\n');
    else process.stdout.write(formatComparison(positionals[0], runs));
    const bad = runs.filter((r) => !r.exit.ok);
    for (const r of bad) process.stderr.write(`vmem: ${r.mode}: ${r.exit.message}\n`);
    if (bad.length > 0) process.exitCode = 1;
    return;
  }
  const summary: RunSummary = runProgram(result, {
    ...base,
    mode,
    trace: trace ? (e) => trace.write(eventToJson(e) + '\n') : undefined,
  });
  trace?.end();
  if (values.json) process.stdout.write(JSON.stringify({ program: positionals[0], ...summary }, null, 2) + '\n');
  else process.stdout.write(formatSummary(positionals[0], summary));
  if (!summary.exit.ok) {
    process.stderr.write(`vmem: ${summary.exit.message}${summary.exit.reason === 'max-steps' ? ' (raise --max-steps)' : ''}\n`);
    process.exitCode = 1;
  }
}

/** `vmem run scenario.json`: several VMs on one machine (docs/scenario.md). */
function runScenario(file: string, json: boolean, maxSteps: number | undefined, tlb: { entries: number; ways: number }, run: MachineRunOptions): void {
  const path = resolve(file);
  if (!existsSync(path)) fail(`no such file: ${file}`);
  let scenario: Scenario;
  try {
    scenario = parseScenario(readFileSync(path, 'utf8'));
  } catch (e) {
    if (e instanceof ScenarioError) fail(`${file}: ${e.message}`);
    throw e;
  }
  const modes = availableModes();
  const programs = scenario.vms.map((v, i) => {
    if (!modes.includes(v.mode)) fail(`${file}: vms[${i}].mode '${v.mode}' is not one of the available modes: ${modes.join(', ')}`);
    const programPath = resolve(dirname(path), v.program);
    if (!existsSync(programPath)) fail(`${file}: vms[${i}].program: no such file: ${v.program}`);
    const r = assemble(programPath, nodeFileProvider(), { defines: v.defines });
    for (const d of r.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
    if (!r.ok) fail(`${v.program}: assembly failed`, 2);
    return r;
  });
  const steps = maxSteps ?? scenario.maxSteps;
  if (scenario.vms.length === 1 && scenario.vms[0].mode === 'native') {
    const v = scenario.vms[0];
    const trace = run.trace;
    const s = runProgram(programs[0], { mode: 'native', maxSteps: steps, memoryBytes: v.memoryMiB * 2 ** 20, vcpus: v.vcpus, tlb, trace: trace ? (e) => trace(v.name, e) : undefined });
    if (json) process.stdout.write(JSON.stringify({ scenario: file, vms: [{ name: v.name, ...s }] }, null, 2) + '\n');
    else process.stdout.write(formatSummary(`${file} ▸ ${v.name}`, s));
    if (!s.exit.ok) process.exitCode = 1;
    return;
  }
  runOnMachine(file, scenarioMachineInput(scenario, programs, { maxSteps: steps, tlb }), json, run, 'scenario');
}

/** Runs VMs on one machine and prints the machine's summary (a scenario, or one program with --machine-memory). */
function runOnMachine(file: string, input: MachineInput, json: boolean, run: MachineRunOptions, key: 'scenario' | 'program' = 'program'): void {
  let summary: MachineSummary;
  try {
    summary = runMachine(input, run);
  } catch (e) {
    if (e instanceof AdmissionRefused) fail(`${file}: ${e.message}`);
    throw e;
  }
  if (json) process.stdout.write(JSON.stringify({ [key]: file, ...summary }, null, 2) + '\n');
  else process.stdout.write(formatMachineSummary(file, summary));
  for (const v of summary.vms) if (!v.exit.ok) process.stderr.write(`vmem: ${v.name}: ${v.exit.message}\n`);
  if (!summary.ok) process.exitCode = 1;
}

function cmdAsm(args: string[]): void {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { define: { type: 'string', short: 'D', multiple: true } } });
  if (positionals.length !== 1) fail(`asm takes one source file\n${USAGE}`);
  const result = assembleFile(positionals[0], parseDefines(values.define));
  for (const d of result.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  if (!result.ok) {
    process.exitCode = 1;
    return;
  }
  process.stdout.write(listing(result));
}

function main(argv: string[]): void {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'run': return cmdRun(rest);
      case 'asm': return cmdAsm(rest);
      case 'experiment':
        process.exitCode = cmdExperiment(rest, (t) => process.stdout.write(t), (t) => process.stderr.write(t));
        return;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE + '\n');
        return;
      default:
        fail(`unknown command '${cmd}'\n${USAGE}`);
    }
  } catch (e) {
    // parseArgs reports unknown options by throwing; say what was expected.
    fail(e instanceof Error ? e.message : String(e));
  }
}

main(process.argv.slice(2));
