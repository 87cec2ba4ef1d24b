// Fidelity on the examples: every examples/*.s, in both paging variants, runs in shadow mode
// (trace and unsync) with what the guest can observe identical to native — console, exit,
// instruction count, registers, the exceptions it handled with error codes and CR2 — and, under
// trace, guest memory identical byte for byte (page-table A/D bits included).
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLES, assembleExample, differingPages, exampleFiles, observe } from './shadowTestUtil';
import type { Observed } from './shadowTestUtil';

const MAX = 5_000_000;

function guestView(o: Observed): unknown {
  const cpu = o.vm.vcpus[0];
  return { console: o.console, exit: o.exitCode, stop: o.stopReasons, icount: o.vm.icount, regs: cpu.snapshot(), exceptions: o.exceptions };
}

describe('shadow mode: examples behave as natively', () => {
  for (const file of exampleFiles()) {
    for (const paging of [64, 32] as const) {
      it(`${file} PAGING=${paging}: trace mode matches native (registers, exceptions, memory)`, () => {
        const prog = assembleExample(file, paging);
        const native = observe(prog, { mode: 'native', maxSteps: MAX });
        const shadow = observe(prog, { mode: 'shadow', maxSteps: MAX });
        assert.deepEqual(guestView(shadow), guestView(native));
        assert.deepEqual(differingPages(native.vm, shadow.vm), [], 'guest memory (incl. A/D bits) differs');
        assert.deepEqual(shadow.shadow!.audit!(), []);
        // Every #PF that reached the guest was one VM exit, and so was every hidden one.
        const pf = shadow.events.filter((e) => e.kind === 'page-fault');
        assert.equal(shadow.monitor!.exitCounts.get(0) ?? 0, pf.length);
        assert.equal(pf.filter((e) => e.kind === 'page-fault' && !e.hidden).length, native.events.filter((e) => e.kind === 'page-fault').length);
      });
      // An example may model unsync's difference (a sloppy guest sees a stale shadow entry
      // longer than a TLB would keep it): its `expect-console[shadow-unsync]` lines say what.
      const modelled = readFileSync(join(EXAMPLES, file), 'utf8')
        .split('\n').map((l) => /^; expect-console\[shadow-unsync\]: (.*)$/.exec(l)?.[1]).filter((l): l is string => l !== undefined);
      it(`${file} PAGING=${paging}: unsync mode gives ${modelled.length ? 'its modelled console' : 'the same console'} and exit`, () => {
        const prog = assembleExample(file, paging);
        const native = observe(prog, { mode: 'native', maxSteps: MAX });
        const shadow = observe(prog, { mode: 'shadow', maxSteps: MAX, modeOptions: { shadow: { sync: 'unsync' } } });
        if (modelled.length === 0) assert.equal(shadow.console, native.console);
        else for (const line of modelled) assert.ok(shadow.console.split('\n').includes(line), `missing modelled line: ${line}\n${shadow.console}`);
        assert.equal(shadow.exitCode, native.exitCode);
        assert.deepEqual(shadow.shadow!.audit!(), []);
      });
    }
  }
});
