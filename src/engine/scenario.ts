// A scenario: one machine and the VMs on it, each with its program and memory mode — what
// `vmem run scenario.json` and (later) a launch configuration describe. Parsing is strict:
// every problem says where it is and what was expected. docs/scenario.md documents the format.
import type { MemoryMode } from './vm';
import { MEMORY_MODES } from './vm';
import type { ModeOptions } from './vmm/options';

export interface ScenarioVm {
  name: string;
  /** Guest program, relative to the scenario file. */
  program: string;
  mode: MemoryMode;
  memoryMiB: number;
  vcpus: number;
  defines: Record<string, bigint>;
  modeOptions: { [K in keyof ModeOptions]?: Partial<ModeOptions[K]> };
}

export interface Scenario {
  machine: { memoryMiB: number; quantum: number };
  vms: ScenarioVm[];
  maxSteps: number;
}

export class ScenarioError extends Error {}

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(o: Record<string, Json>, allowed: string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new ScenarioError(`${where}: unknown key '${k}' (expected one of: ${allowed.join(', ')})`);
  }
}

function positiveInt(v: Json, where: string, dflt: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > max) throw new ScenarioError(`${where}: expected a whole number from 1 to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

function oneOf<T extends string>(v: Json, values: readonly T[], where: string, dflt: T): T {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !values.includes(v as T)) throw new ScenarioError(`${where}: expected one of ${values.map((x) => `"${x}"`).join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function bool(v: Json, where: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new ScenarioError(`${where}: expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

function parseModeOptions(v: Json, where: string): ScenarioVm['modeOptions'] {
  if (v === undefined) return {};
  if (!isObject(v)) throw new ScenarioError(`${where}: expected an object`);
  checkKeys(v, ['shadow', 'nested', 'paravirt'], where);
  const out: ScenarioVm['modeOptions'] = {};
  if (v.shadow !== undefined) {
    const s = v.shadow;
    if (!isObject(s)) throw new ScenarioError(`${where}.shadow: expected an object`);
    checkKeys(s, ['sync', 'rootCacheSize'], `${where}.shadow`);
    out.shadow = { sync: oneOf(s.sync, ['trace', 'unsync'] as const, `${where}.shadow.sync`, 'trace'), rootCacheSize: positiveInt(s.rootCacheSize, `${where}.shadow.rootCacheSize`, 4, 64) };
  }
  if (v.nested !== undefined) {
    const n = v.nested;
    if (!isObject(n)) throw new ScenarioError(`${where}.nested: expected an object`);
    checkKeys(n, ['eptPageSize', 'accessedDirty', 'vpid', 'walkCaches'], `${where}.nested`);
    out.nested = {
      eptPageSize: oneOf(n.eptPageSize, ['4k', '2m', '1g'] as const, `${where}.nested.eptPageSize`, '4k'),
      accessedDirty: bool(n.accessedDirty, `${where}.nested.accessedDirty`) ?? false,
      vpid: bool(n.vpid, `${where}.nested.vpid`) ?? true,
      walkCaches: bool(n.walkCaches, `${where}.nested.walkCaches`) ?? false,
    };
  }
  if (v.paravirt !== undefined) {
    const p = v.paravirt;
    if (!isObject(p)) throw new ScenarioError(`${where}.paravirt: expected an object`);
    checkKeys(p, ['p2mPage'], `${where}.paravirt`);
    out.paravirt = { p2mPage: positiveInt(p.p2mPage, `${where}.paravirt.p2mPage`, 0xc0) };
  }
  return out;
}

function parseDefines(v: Json, where: string): Record<string, bigint> {
  if (v === undefined) return {};
  if (!isObject(v)) throw new ScenarioError(`${where}: expected an object of NAME: number`);
  const out: Record<string, bigint> = {};
  for (const [k, x] of Object.entries(v)) {
    if (!/^[A-Za-z_.][\w.]*$/.test(k)) throw new ScenarioError(`${where}: '${k}' is not a symbol name`);
    if (typeof x !== 'number' || !Number.isInteger(x)) throw new ScenarioError(`${where}.${k}: expected a whole number, got ${JSON.stringify(x)}`);
    out[k] = BigInt(x);
  }
  return out;
}

/** Parses scenario JSON text; throws ScenarioError saying what is wrong and where. */
export function parseScenario(text: string): Scenario {
  let doc: Json;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ScenarioError(`not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isObject(doc)) throw new ScenarioError('the scenario must be a JSON object with "vms"');
  checkKeys(doc, ['$schema', 'machine', 'vms', 'maxSteps'], 'scenario');
  const m = doc.machine ?? {};
  if (!isObject(m)) throw new ScenarioError('machine: expected an object');
  checkKeys(m, ['memoryMiB', 'quantum'], 'machine');
  if (!Array.isArray(doc.vms) || doc.vms.length === 0) throw new ScenarioError('vms: expected a non-empty array of VMs');
  const names = new Set<string>();
  const vms = doc.vms.map((v: Json, i: number): ScenarioVm => {
    const where = `vms[${i}]`;
    if (!isObject(v)) throw new ScenarioError(`${where}: expected an object`);
    checkKeys(v, ['name', 'program', 'mode', 'memoryMiB', 'vcpus', 'defines', 'modeOptions'], where);
    if (typeof v.program !== 'string' || v.program === '') throw new ScenarioError(`${where}.program: expected the path of a guest program`);
    const name = v.name === undefined ? `vm${i + 1}` : v.name;
    if (typeof name !== 'string' || name === '') throw new ScenarioError(`${where}.name: expected a non-empty string`);
    if (names.has(name)) throw new ScenarioError(`${where}.name: '${name}' is used twice`);
    names.add(name);
    return {
      name,
      program: v.program,
      mode: oneOf(v.mode, MEMORY_MODES, `${where}.mode`, 'shadow'),
      memoryMiB: positiveInt(v.memoryMiB, `${where}.memoryMiB`, 64, 4096),
      vcpus: positiveInt(v.vcpus, `${where}.vcpus`, 1, 16),
      defines: parseDefines(v.defines, `${where}.defines`),
      modeOptions: parseModeOptions(v.modeOptions, `${where}.modeOptions`),
    };
  });
  if (vms.length > 1 && vms.some((v) => v.mode === 'native')) throw new ScenarioError('a native VM runs without a hypervisor, alone on its machine: give each of several VMs a hypervisor mode (shadow, nested, paravirt)');
  const guestMiB = vms.reduce((a, v) => a + v.memoryMiB, 0);
  return {
    machine: { memoryMiB: positiveInt(m.memoryMiB, 'machine.memoryMiB', Math.max(64, 2 * guestMiB), 65536), quantum: positiveInt(m.quantum, 'machine.quantum', 10_000) },
    vms,
    maxSteps: positiveInt(doc.maxSteps, 'maxSteps', 50_000_000),
  };
}
