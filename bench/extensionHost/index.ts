// The entry VS Code loads as `extensionTestsPath` for the extension-host benchmark (not a test
// suite: no mocha, no assertions on time). scripts/ui/runExtensionHostBench.mjs bundles this file,
// starts code-server with it, and reads back what it prints: progress lines after BENCH_MARKER,
// then one line BENCH_RESULT + JSON. Options come through the environment the host inherits:
//   VMEM_BENCH_MODES   comma-separated memory modes (default native,shadow,nested)
//   VMEM_BENCH_STEPS   measured steps per mode (default 30)
//   VMEM_BENCH_WARMUP  steps before measuring (default 3)
//   VMEM_BENCH_QUIET_MS  how long nothing may happen before a refresh counts as done (default 400)
//   VMEM_BENCH_NO_PANELS=1  the tree views alone (no webview panels opened)
//   VMEM_BENCH_TRACE=1  the warm-up steps' DAP traffic and views' answers, in time order
import { benchViewsInHost } from './viewsRefresh';

export const BENCH_MARKER = 'vmem extension-host bench:';
export const BENCH_RESULT = 'vmem extension-host bench result: ';

const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v >= 0 ? v : fallback;
};

export async function run(): Promise<void> {
  const modes = (process.env.VMEM_BENCH_MODES ?? 'native,shadow,nested').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const options = {
    modes,
    steps: num('VMEM_BENCH_STEPS', 30),
    warmup: Math.max(1, num('VMEM_BENCH_WARMUP', 3)),
    quietMs: num('VMEM_BENCH_QUIET_MS', 400),
    timeoutMs: 20_000,
    panels: process.env.VMEM_BENCH_NO_PANELS !== '1',
  };
  const log = (m: string): void => console.log(`${BENCH_MARKER} ${m}`);
  log(`${modes.join(', ')}: ${options.warmup} warm-up + ${options.steps} measured steps each${options.panels ? '' : ', no panels'}`);
  const result = await benchViewsInHost(options, log);
  console.log(BENCH_RESULT + JSON.stringify(result));
}
