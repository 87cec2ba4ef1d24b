// Runs every examples/*.s that carries an expectation block (see expectations.ts) in native
// mode and checks its exit status, console lines and counters. Adding an example adds a test.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { assemble } from '../../src/engine/isa/assembler';
import { runProgram } from '../../src/engine/runner';
import type { RunSummary } from '../../src/engine/runner';
import { nodeFileProvider } from '../../src/cli/nodeFileProvider';
import { EXAMPLE_CONFIGS, checkRun, parseBalloonTargets, parseExpectations, parseModes, parseVariants } from './expectations';
import { availableModes } from '../../src/engine/vmm/modes';
import type { MemoryMode } from '../../src/engine/vm';
import type { Variant } from './expectations';

// out/test/examples → the repository's examples/
const EXAMPLES = resolve(__dirname, '../../../examples');
const MAX_STEPS = 5_000_000;

function exampleFiles(): string[] {
  return readdirSync(EXAMPLES).filter((f) => f.endsWith('.s')).sort();
}

function run(file: string, variant: Variant, config: string, source: string): RunSummary {
  const c = EXAMPLE_CONFIGS[config];
  const schedule = parseBalloonTargets(source);
  const result = assemble(join(EXAMPLES, file), nodeFileProvider(), { defines: variant.defines });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  assert.ok(result.ok, `${file} does not assemble:\n` + errors.map((d) => `${d.file}:${d.line}:${d.column}: ${d.message}`).join('\n'));
  // The MMU audit runs throughout (every 500 instructions, to keep the suite quick).
  return runProgram(result, {
    maxSteps: MAX_STEPS, mode: c.mode as MemoryMode, modeOptions: c.modeOptions, audit: true, auditEvery: 500,
    devices: schedule ? { balloon: { schedule } } : undefined,
  });
}

/** Console output of the first mode run per (file, variant): every other mode must match it. */
const reference = new Map<string, { mode: string; console: string }>();

describe('examples', () => {
  const files = exampleFiles();

  it('finds the example programs', () => {
    assert.ok(files.length >= 7, `only ${files.length} examples in ${EXAMPLES}`);
  });

  for (const file of files) {
    const source = readFileSync(join(EXAMPLES, file), 'utf8');
    const available = availableModes();
    const configs = parseModes(source);
    for (const c of configs) if (!EXAMPLE_CONFIGS[c]) throw new Error(`${file}: unknown mode '${c}' in '; modes:' (known: ${Object.keys(EXAMPLE_CONFIGS).join(', ')})`);
    for (const mode of configs.filter((m) => available.includes(EXAMPLE_CONFIGS[m].mode))) {
      for (const variant of parseVariants(source)) {
        const expectations = parseExpectations(source, variant, mode);
        if (!expectations) continue;
        const name = `${file} [${[variant.label, mode].filter(Boolean).join(', ')}]`;
        it(`${name} meets its expectations`, () => {
          const summary = run(file, variant, mode, source);
          const problems = checkRun(expectations, summary);
          assert.deepEqual(problems, [], `${name}:\n  ${problems.join('\n  ')}\n--- console ---\n${summary.console}`);
          // Fidelity: the guest's output does not depend on how its memory is virtualized.
          if (!EXAMPLE_CONFIGS[mode].exact) return;
          const key = `${file} ${variant.label}`;
          const ref = reference.get(key);
          if (!ref) reference.set(key, { mode, console: summary.console });
          else assert.equal(summary.console, ref.console, `${name}: console differs from ${ref.mode}`);
        });
      }
    }
  }

  it('every example has an expectation block, a leading comment and a README entry', () => {
    const readme = readFileSync(join(EXAMPLES, 'README.md'), 'utf8');
    for (const file of files) {
      const source = readFileSync(join(EXAMPLES, file), 'utf8');
      assert.ok(parseExpectations(source), `${file} has no expect-* lines`);
      assert.match(source, /^;/, `${file} should open with a comment saying what it shows`);
      assert.ok(readme.includes(file), `examples/README.md does not mention ${file}`);
    }
  });
});
