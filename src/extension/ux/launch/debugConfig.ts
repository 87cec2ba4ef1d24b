// Launch configurations of type `vmem` as the extension builds and checks them, with no vscode
// import: what F5 on an open guest program starts, the Run and Debug dropdown's one entry per
// mode, defaults from the settings, and the checks that run before a session starts (the same
// validation the adapter applies, so a bad attribute is reported before anything launches).
import { basename, extname, isAbsolute, resolve } from 'node:path';
import { LaunchConfigError, parseLaunchConfig } from '../../../debugAdapter/runtime/launchConfig';
import type { MemoryMode } from '../../../engine/vm';
import type { ModeChoice } from './programModes';
import { modeChoice, programModes } from './programModes';

/** A `vmem` launch configuration as VS Code hands it over: known keys typed, the rest unknown. */
export interface VmemConfig {
  type?: string;
  request?: string;
  name?: string;
  program?: unknown;
  mode?: unknown;
  stopOnEntry?: unknown;
  logEvents?: unknown;
  cwd?: unknown;
  [key: string]: unknown;
}

/** Files a session can start from: guest programs and scenarios. */
const PROGRAM_EXTENSIONS = ['.s', '.vmasm'];
const SCENARIO_EXTENSION = '.json';

export type ProgramKind = 'program' | 'scenario';

export function programKind(path: string): ProgramKind | undefined {
  const ext = extname(path).toLowerCase();
  if (PROGRAM_EXTENSIONS.includes(ext)) return 'program';
  if (ext === SCENARIO_EXTENSION) return 'scenario';
  return undefined;
}

/** The configuration F5 builds for a file, in one mode (a scenario sets its VMs' modes itself). */
export function configForFile(path: string, choice?: ModeChoice): VmemConfig {
  const scenario = programKind(path) === 'scenario';
  const cfg: VmemConfig = {
    type: 'vmem',
    request: 'launch',
    name: scenario || !choice ? `Debug ${basename(path)}` : `Debug ${basename(path)} in ${choice.title}`,
    program: path,
    stopOnEntry: true,
  };
  if (!scenario && choice) {
    cfg.mode = choice.mode;
    if (choice.shadowSync) cfg.shadowSync = choice.shadowSync;
    if (choice.eptPageSize) cfg.eptPageSize = choice.eptPageSize;
    if (choice.defines) cfg.defines = { ...choice.defines };
  }
  return cfg;
}

/** The Run and Debug dropdown's entries for a file: one per mode its header allows. */
export function dynamicConfigs(path: string, source: string): VmemConfig[] {
  const kind = programKind(path);
  if (kind === undefined) return [];
  if (kind === 'scenario') return [configForFile(path)];
  return programModes(source).map((c) => configForFile(path, c));
}

export interface Defaults {
  /** The active editor's file, if any. */
  activeFile: string | undefined;
  /** `vmem.launch.defaultMode`, used when F5 builds the configuration. */
  defaultMode: MemoryMode;
  /** `vmem.launch.logEvents`, used when a configuration says nothing about logEvents. */
  logEvents: readonly string[];
  /** The source of the active file (for its `; modes:` header), if known. */
  activeSource?: string;
}

export type Resolved = { ok: true; config: VmemConfig } | { ok: false; message: string };

/**
 * Fills what a configuration leaves out. An empty one (F5 with no launch.json) becomes a launch of
 * the active file in the default mode — or the first mode its header allows, when the default is
 * not among them (pv-hello.s runs only paravirtualized).
 */
export function withDefaults(config: VmemConfig, d: Defaults): Resolved {
  let cfg: VmemConfig = { ...config };
  if (!cfg.type && !cfg.request && !cfg.name) {
    if (!d.activeFile || programKind(d.activeFile) === undefined) {
      return { ok: false, message: 'VMem: open a guest program (.s, .vmasm) or a scenario (.json) to debug it, or add a "vmem" configuration to launch.json.' };
    }
    const allowed = d.activeSource !== undefined ? programModes(d.activeSource) : [];
    const choice = allowed.find((c) => c.name === d.defaultMode) ?? allowed[0] ?? modeChoice(d.defaultMode);
    cfg = configForFile(d.activeFile, choice);
  }
  cfg.type ??= 'vmem';
  cfg.request ??= 'launch';
  cfg.name ??= 'Debug guest program';
  if (cfg.program === undefined) {
    if (!d.activeFile) return { ok: false, message: "VMem: the configuration has no 'program' and no guest program is open." };
    cfg.program = d.activeFile;
  }
  if (cfg.logEvents === undefined && d.logEvents.length > 0) cfg.logEvents = [...d.logEvents];
  return { ok: true, config: cfg };
}

export interface Checked {
  ok: boolean;
  /** What is wrong, in the adapter's words when it is an attribute. */
  message?: string;
  /** The configuration with `program` absolute (when ok). */
  config?: VmemConfig;
}

/**
 * The last check before a session starts (variables substituted): the program is a guest file
 * that exists, and every attribute passes the adapter's own validation.
 */
export function checkConfig(config: VmemConfig, folder: string | undefined, exists: (p: string) => boolean): Checked {
  const p = config.program;
  if (typeof p !== 'string' || p.trim() === '') return { ok: false, message: "'program': expected the path of a guest program (.s, .vmasm) or a scenario (.json)" };
  const base = typeof config.cwd === 'string' ? config.cwd : folder;
  const program = isAbsolute(p) || base === undefined ? p : resolve(base, p);
  if (!isAbsolute(program)) return { ok: false, message: `'program': '${p}' is relative and there is no workspace folder to resolve it against: use an absolute path or \${workspaceFolder}/…` };
  if (programKind(program) === undefined) return { ok: false, message: `'program': ${basename(program)} is not a guest program (.s, .vmasm) or a scenario (.json)` };
  if (!exists(program)) return { ok: false, message: `'program': no such file: ${program}` };
  const out: VmemConfig = { ...config, program };
  if (base !== undefined && out.cwd === undefined) out.cwd = base;
  try {
    parseLaunchConfig(out, (x) => (isAbsolute(x) ? x : resolve(base ?? '/', x)), exists);
  } catch (e) {
    if (e instanceof LaunchConfigError) return { ok: false, message: e.message };
    throw e;
  }
  return { ok: true, config: out };
}
