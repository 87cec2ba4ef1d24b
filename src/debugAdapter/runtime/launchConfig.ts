// The `vmem` launch configuration, checked strictly: an unknown key or a bad value is an error
// that names the key and what was expected (a typo never passes silently). docs/debugging.md and
// schemas/launch.schema.json describe the same keys.
import { EVENT_KINDS } from '../../engine/events';
import type { EventKind } from '../../engine/events';
import { MEMORY_MODES } from '../../engine/vm';
import type { MemoryMode } from '../../engine/vm';
import { parseTargetSchedule } from '../../engine/memory/overcommit/balloon/targetSchedule';
import type { TargetStep } from '../../engine/memory/overcommit/balloon/balloonDevice';

export interface LaunchConfig {
  /** Absolute path of the .s program or .json scenario. */
  program: string;
  kind: 'program' | 'scenario';
  mode: MemoryMode;
  stopOnEntry: boolean;
  defines: Record<string, bigint>;
  memoryMiB: number;
  vcpus: number;
  tlbEntries: number;
  tlbWays: number;
  shadowSync: 'trace' | 'unsync';
  eptPageSize: '4k' | '2m' | '1g';
  eptAccessedDirty: boolean;
  vpid: boolean;
  walkCaches: boolean;
  /** The host's balloon targets over simulated time (`balloonTarget: "0:300,1.5:100"`); empty: none. */
  balloonTarget: TargetStep[];
  /** Machine memory under the VM (a hypervisor mode): less than memoryMiB overcommits it; undefined: the default machine. */
  machineMemoryMiB: number | undefined;
  maxSteps: number;
  /** Event kinds logged to the Debug Console (empty: none). */
  logEvents: EventKind[];
  audit: boolean;
}

export class LaunchConfigError extends Error {}

/** Keys VS Code itself adds to every configuration (and any `__` key it uses internally). */
const CLIENT_KEYS = ['type', 'request', 'name', 'noDebug', 'preLaunchTask', 'postDebugTask', 'internalConsoleOptions', 'debugServer', 'presentation', 'suppressMultipleSessionWarning', 'cwd'];

/** Keys of a program run; a scenario sets the machine itself and takes only the run keys. */
const PROGRAM_KEYS = ['mode', 'defines', 'memoryMiB', 'vcpus', 'shadowSync', 'eptPageSize', 'eptAccessedDirty', 'vpid', 'walkCaches', 'balloonTarget', 'machineMemoryMiB'];
const RUN_KEYS = ['program', 'stopOnEntry', 'tlbEntries', 'tlbWays', 'maxSteps', 'logEvents', 'audit'];
export const LAUNCH_KEYS = [...RUN_KEYS, ...PROGRAM_KEYS];

/** Event kinds `logEvents: true` logs: every kind but tlb-miss (one per TLB miss drowns the console). */
export const DEFAULT_LOGGED_KINDS: EventKind[] = EVENT_KINDS.filter((k) => k !== 'tlb-miss');

const fail = (msg: string): never => {
  throw new LaunchConfigError(msg);
};

function int(v: unknown, key: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(`'${key}': expected a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v as number;
}

function balloonTarget(v: unknown): TargetStep[] {
  if (v === undefined) return [];
  if (typeof v !== 'string') return fail(`'balloonTarget': expected a string of SECONDS:PAGES steps such as "0:300,1.5:100", got ${JSON.stringify(v)}`);
  try {
    return parseTargetSchedule(v);
  } catch (e) {
    return fail(`'balloonTarget': ${(e as Error).message}`);
  }
}

function bool(v: unknown, key: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') fail(`'${key}': expected true or false, got ${JSON.stringify(v)}`);
  return v as boolean;
}

function oneOf<T extends string>(v: unknown, key: string, values: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !values.includes(v as T)) fail(`'${key}': expected one of ${values.map((x) => `"${x}"`).join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function defines(v: unknown): Record<string, bigint> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(`'defines': expected an object of NAME: number, e.g. {"PAGING": 32}`);
  const out: Record<string, bigint> = {};
  for (const [k, x] of Object.entries(v)) {
    if (!/^[A-Za-z_.][\w.]*$/.test(k)) fail(`'defines': '${k}' is not a symbol name`);
    let n: bigint | undefined;
    if (typeof x === 'number' && Number.isSafeInteger(x)) n = BigInt(x);
    else if (typeof x === 'string' && /^-?(0x[0-9a-f_]+|[0-9_]+)$/i.test(x.trim())) n = x.trim().startsWith('-') ? -BigInt(x.trim().slice(1).replace(/_/g, '')) : BigInt(x.trim().replace(/_/g, ''));
    if (n === undefined) fail(`'defines.${k}': expected a whole number (or a string such as "0x1000"), got ${JSON.stringify(x)}`);
    out[k] = n as bigint;
  }
  return out;
}

function logEvents(v: unknown): EventKind[] {
  if (v === undefined || v === false) return [];
  if (v === true) return DEFAULT_LOGGED_KINDS;
  if (!Array.isArray(v)) return fail(`'logEvents': expected true, false or an array of event kinds (${EVENT_KINDS.join(', ')})`);
  for (const k of v) if (typeof k !== 'string' || !EVENT_KINDS.includes(k as EventKind)) fail(`'logEvents': unknown event kind ${JSON.stringify(k)} (expected one of: ${EVENT_KINDS.join(', ')})`);
  return [...new Set(v as EventKind[])];
}

/**
 * Validates launch arguments. `resolvePath` makes `program` absolute (relative to the workspace)
 * and `exists` says whether a file is there; both are the caller's so this stays testable.
 */
export function parseLaunchConfig(args: Record<string, unknown>, resolvePath: (p: string) => string, exists: (p: string) => boolean): LaunchConfig {
  for (const k of Object.keys(args)) {
    if (!LAUNCH_KEYS.includes(k) && !CLIENT_KEYS.includes(k) && !k.startsWith('__')) fail(`unknown launch configuration key '${k}' (expected one of: ${LAUNCH_KEYS.join(', ')})`);
  }
  const p = args.program;
  if (typeof p !== 'string' || p.trim() === '') return fail(`'program': expected the path of a guest program (.s) or a scenario (.json)`);
  const program = resolvePath(p);
  const kind = program.toLowerCase().endsWith('.json') ? 'scenario' : 'program';
  if (kind === 'scenario') {
    for (const k of PROGRAM_KEYS) if (args[k] !== undefined) fail(`'${k}' does not apply to a scenario: set it for each VM in ${p} (docs/scenario.md)`);
  }
  if (!exists(program)) fail(`'program': no such file: ${program}`);
  const tlbEntries = int(args.tlbEntries, 'tlbEntries', 64, 1, 65536);
  const tlbWays = int(args.tlbWays, 'tlbWays', 4, 1, 65536);
  const sets = tlbEntries / tlbWays;
  if (!Number.isInteger(sets) || (sets & (sets - 1)) !== 0) fail(`'tlbEntries' / 'tlbWays': expected a power-of-two number of sets, got ${tlbEntries}/${tlbWays}`);
  return {
    program,
    kind,
    mode: oneOf(args.mode, 'mode', MEMORY_MODES, 'native'),
    stopOnEntry: bool(args.stopOnEntry, 'stopOnEntry', false),
    defines: defines(args.defines),
    memoryMiB: int(args.memoryMiB, 'memoryMiB', 64, 1, 4096),
    vcpus: int(args.vcpus, 'vcpus', 1, 1, 16),
    tlbEntries,
    tlbWays,
    shadowSync: oneOf(args.shadowSync, 'shadowSync', ['trace', 'unsync'] as const, 'trace'),
    eptPageSize: oneOf(args.eptPageSize, 'eptPageSize', ['4k', '2m', '1g'] as const, '4k'),
    eptAccessedDirty: bool(args.eptAccessedDirty, 'eptAccessedDirty', false),
    vpid: bool(args.vpid, 'vpid', true),
    walkCaches: bool(args.walkCaches, 'walkCaches', false),
    balloonTarget: balloonTarget(args.balloonTarget),
    machineMemoryMiB: args.machineMemoryMiB === undefined ? undefined : int(args.machineMemoryMiB, 'machineMemoryMiB', 64, 1, 65536),
    maxSteps: int(args.maxSteps, 'maxSteps', 50_000_000, 1, Number.MAX_SAFE_INTEGER),
    logEvents: logEvents(args.logEvents),
    audit: bool(args.audit, 'audit', false),
  };
}
