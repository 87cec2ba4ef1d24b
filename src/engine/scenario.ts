// A scenario: one machine and the VMs on it, each with its program and memory mode — what
// `vmem run scenario.json` and (later) a launch configuration describe. Parsing is strict:
// every problem says where it is and what was expected. docs/scenario.md documents the format.
import type { MemoryMode } from './vm';
import { MEMORY_MODES } from './vm';
import type { ModeOptions } from './vmm/options';
import type { MemSchedConfig, VmOvercommitOptions } from './memory/overcommit/machineOvercommit';
import type { GuestDeviceOptions } from './memory/overcommit/guestDevices';
import { MEM_POLICIES } from './memory/overcommit/policy/shares';
import { VICTIM_POLICIES } from './memory/overcommit/victims';
import { parseTargetSchedule } from './memory/overcommit/balloon/targetSchedule';
import { DEFAULT_THRESHOLDS, effectiveThresholds, validateThresholds, type ReclaimThresholds } from './memory/overcommit/policy/reclaimState';

export interface ScenarioVm {
  name: string;
  /** Guest program, relative to the scenario file. */
  program: string;
  mode: MemoryMode;
  memoryMiB: number;
  vcpus: number;
  defines: Record<string, bigint>;
  modeOptions: { [K in keyof ModeOptions]?: Partial<ModeOptions[K]> };
  /** Reservation, limit, shares for the memory scheduler (bytes). */
  allocation: VmOvercommitOptions;
  /** The balloon and guest disk devices. */
  devices: GuestDeviceOptions;
}

export interface Scenario {
  machine: {
    memoryMiB: number;
    quantum: number;
    cyclesPerSecond?: number;
    swapLatencyCycles?: number;
    /** undefined: the default (on when overcommitted); false: off. */
    memsched?: Partial<MemSchedConfig> | false;
  };
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

function number(v: Json, where: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new ScenarioError(`${where}: expected a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
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

/** `memsched.thresholds`: ESX's percentages and the page floor; unset fields keep the defaults.
 *  The merged set is checked as the scheduler will (ordering, margin, the floor on this machine). */
function parseThresholds(v: Json, where: string, machinePages: number): Partial<ReclaimThresholds> {
  if (!isObject(v)) throw new ScenarioError(`${where}: expected an object { "high", "soft", "hard", "low", "upMargin", "minFreePages" }`);
  checkKeys(v, ['high', 'soft', 'hard', 'low', 'upMargin', 'minFreePages'], where);
  const out: Partial<ReclaimThresholds> = {};
  for (const k of ['high', 'soft', 'hard', 'low'] as const) {
    const x = number(v[k], `${where}.${k}`, 0, 100);
    if (x !== undefined) out[k] = x;
  }
  const margin = number(v.upMargin, `${where}.upMargin`, 0, 10);
  if (margin !== undefined) out.upMargin = margin;
  if (v.minFreePages !== undefined) {
    const f = v.minFreePages;
    if (typeof f !== 'number' || !Number.isInteger(f) || f < 0) throw new ScenarioError(`${where}.minFreePages: expected a whole number of pages ≥ 0, got ${JSON.stringify(f)}`);
    out.minFreePages = f;
  }
  const merged: ReclaimThresholds = { ...DEFAULT_THRESHOLDS, ...out };
  try {
    validateThresholds(merged);
  } catch (e) {
    throw new ScenarioError(`${where}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    effectiveThresholds(merged, machinePages);
  } catch (e) {
    throw new ScenarioError(`${where}.minFreePages: ${e instanceof Error ? e.message : String(e)}`);
  }
  return out;
}

function parseMemsched(v: Json, where: string, machinePages: number): Partial<MemSchedConfig> | false | undefined {
  if (v === undefined) return undefined;
  if (v === false) return false;
  if (v === true) return {};
  if (!isObject(v)) throw new ScenarioError(`${where}: expected true, false or an object`);
  checkKeys(v, ['policy', 'tau', 'balancePeriodS', 'samplePeriodS', 'samplePages', 'victim', 'seed', 'sharing', 'thresholds'], where);
  const out: Partial<MemSchedConfig> = {};
  if (v.policy !== undefined) out.policy = oneOf(v.policy, MEM_POLICIES, `${where}.policy`, 'idle-tax');
  const tau = number(v.tau, `${where}.tau`, 0, 0.99);
  if (tau !== undefined) out.tau = tau;
  const balance = number(v.balancePeriodS, `${where}.balancePeriodS`, 0.001, 3600);
  if (balance !== undefined) out.balancePeriodS = balance;
  const sample = number(v.samplePeriodS, `${where}.samplePeriodS`, 0.001, 3600);
  if (sample !== undefined) out.samplePeriodS = sample;
  if (v.samplePages !== undefined) out.samplePages = positiveInt(v.samplePages, `${where}.samplePages`, 100, 100_000);
  if (v.victim !== undefined) out.victim = oneOf(v.victim, VICTIM_POLICIES, `${where}.victim`, 'random');
  if (v.seed !== undefined) out.seed = positiveInt(v.seed, `${where}.seed`, 1, 0xffffffff);
  if (v.thresholds !== undefined) out.thresholds = parseThresholds(v.thresholds, `${where}.thresholds`, machinePages);
  if (v.sharing !== undefined) {
    const sh = v.sharing;
    if (sh === false) out.sharing = { enabled: false, scanPagesPerSecPerVm: 50, scanPagesPerSecTotal: 200 };
    else {
      if (!isObject(sh)) throw new ScenarioError(`${where}.sharing: expected false or an object`);
      checkKeys(sh, ['enabled', 'scanPagesPerSecPerVm', 'scanPagesPerSecTotal'], `${where}.sharing`);
      out.sharing = {
        enabled: bool(sh.enabled, `${where}.sharing.enabled`) ?? true,
        scanPagesPerSecPerVm: number(sh.scanPagesPerSecPerVm, `${where}.sharing.scanPagesPerSecPerVm`, 0, 1e9) ?? 50,
        scanPagesPerSecTotal: number(sh.scanPagesPerSecTotal, `${where}.sharing.scanPagesPerSecTotal`, 0, 1e9) ?? 200,
      };
    }
  }
  return out;
}

function parseBalloon(v: Json, where: string): GuestDeviceOptions['balloon'] {
  if (v === undefined) return undefined;
  if (v === false) return false;
  if (!isObject(v)) throw new ScenarioError(`${where}: expected false or an object { "target": pages, "schedule": "0:300,1.5:100" }`);
  checkKeys(v, ['target', 'schedule'], where);
  const out: NonNullable<Exclude<GuestDeviceOptions['balloon'], false>> = {};
  if (v.target !== undefined) out.target = number(v.target, `${where}.target`, 0, 2 ** 31);
  if (v.schedule !== undefined) {
    if (typeof v.schedule !== 'string') throw new ScenarioError(`${where}.schedule: expected "seconds:pages,…", e.g. "0:300,1.5:100"`);
    try {
      out.schedule = parseTargetSchedule(v.schedule);
    } catch (e) {
      throw new ScenarioError(`${where}.schedule: ${e instanceof Error ? e.message : String(e)}`);
    }
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

function machineOf(m: Record<string, Json>, guestMiB: number): Scenario['machine'] {
  const out: Scenario['machine'] = { memoryMiB: positiveInt(m.memoryMiB, 'machine.memoryMiB', Math.max(64, 2 * guestMiB), 65536), quantum: positiveInt(m.quantum, 'machine.quantum', 10_000) };
  if (m.cyclesPerSecond !== undefined) out.cyclesPerSecond = positiveInt(m.cyclesPerSecond, 'machine.cyclesPerSecond', 1_000_000, 1e12);
  const latencyMs = number(m.swapLatencyMs, 'machine.swapLatencyMs', 0, 60_000);
  if (latencyMs !== undefined) out.swapLatencyCycles = Math.round((latencyMs / 1000) * (out.cyclesPerSecond ?? 1_000_000));
  const memsched = parseMemsched(m.memsched, 'machine.memsched', (out.memoryMiB * 2 ** 20) / 4096);
  if (memsched !== undefined) out.memsched = memsched;
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
  checkKeys(m, ['memoryMiB', 'quantum', 'cyclesPerSecond', 'swapLatencyMs', 'memsched'], 'machine');
  if (!Array.isArray(doc.vms) || doc.vms.length === 0) throw new ScenarioError('vms: expected a non-empty array of VMs');
  const names = new Set<string>();
  const vms = doc.vms.map((v: Json, i: number): ScenarioVm => {
    const where = `vms[${i}]`;
    if (!isObject(v)) throw new ScenarioError(`${where}: expected an object`);
    checkKeys(v, ['name', 'program', 'mode', 'memoryMiB', 'vcpus', 'defines', 'modeOptions', 'minMiB', 'maxMiB', 'shares', 'sampled', 'balloon', 'disk'], where);
    if (typeof v.program !== 'string' || v.program === '') throw new ScenarioError(`${where}.program: expected the path of a guest program`);
    const name = v.name === undefined ? `vm${i + 1}` : v.name;
    if (typeof name !== 'string' || name === '') throw new ScenarioError(`${where}.name: expected a non-empty string`);
    if (names.has(name)) throw new ScenarioError(`${where}.name: '${name}' is used twice`);
    names.add(name);
    const memoryMiB = positiveInt(v.memoryMiB, `${where}.memoryMiB`, 64, 4096);
    const minMiB = number(v.minMiB, `${where}.minMiB`, 0, memoryMiB);
    const maxMiB = number(v.maxMiB, `${where}.maxMiB`, 0, memoryMiB);
    if (minMiB !== undefined && maxMiB !== undefined && minMiB > maxMiB) throw new ScenarioError(`${where}: minMiB (${minMiB}) must not exceed maxMiB (${maxMiB})`);
    const allocation: VmOvercommitOptions = {};
    if (minMiB !== undefined) allocation.minBytes = Math.round(minMiB * 2 ** 20);
    if (maxMiB !== undefined) allocation.maxBytes = Math.round(maxMiB * 2 ** 20);
    if (v.shares !== undefined) allocation.shares = positiveInt(v.shares, `${where}.shares`, 1000, 1e9);
    const sampled = bool(v.sampled, `${where}.sampled`);
    if (sampled !== undefined) allocation.sampled = sampled;
    const devices: GuestDeviceOptions = {};
    const balloon = parseBalloon(v.balloon, `${where}.balloon`);
    if (balloon !== undefined) devices.balloon = balloon;
    if (v.disk !== undefined) {
      if (v.disk !== false) throw new ScenarioError(`${where}.disk: expected false (no guest disk); the disk is attached by default`);
      devices.disk = false;
    }
    return {
      allocation,
      devices,
      name,
      program: v.program,
      mode: oneOf(v.mode, MEMORY_MODES, `${where}.mode`, 'shadow'),
      memoryMiB,
      vcpus: positiveInt(v.vcpus, `${where}.vcpus`, 1, 16),
      defines: parseDefines(v.defines, `${where}.defines`),
      modeOptions: parseModeOptions(v.modeOptions, `${where}.modeOptions`),
    };
  });
  if (vms.length > 1 && vms.some((v) => v.mode === 'native')) throw new ScenarioError('a native VM runs without a hypervisor, alone on its machine: give each of several VMs a hypervisor mode (shadow, nested, paravirt)');
  const guestMiB = vms.reduce((a, v) => a + v.memoryMiB, 0);
  return {
    machine: machineOf(m, guestMiB),
    vms,
    maxSteps: positiveInt(doc.maxSteps, 'maxSteps', 50_000_000),
  };
}
