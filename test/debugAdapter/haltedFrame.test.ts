// A vCPU that has executed `hlt` has its rip past that instruction — past the program's last
// line. When the session stops later (another VM's breakpoint, a VMM event), its call stack must
// still point at a source line: the `hlt` it executed, with the vCPU's state in the frame name.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { adapterPerTest, launchAndStop, writeProgram } from './adapterHarness';

const QUICK = `.org 0x1000
.entry _start
_start:
    mov eax, 1
    hlt
`;
const SLOW = `.org 0x1000
.entry _start
_start:
    mov ecx, 20000
.spin:
    dec ecx
    jnz .spin
finish:
    hlt
`;

describe('the frame of a halted vCPU', function () {
  this.timeout(30_000);
  const h = adapterPerTest();

  // native runs one VM alone on its machine; two VMs need a hypervisor mode.
  for (const mode of ['shadow', 'nested'] as const) {
    it(`${mode}: a VM stopped at hlt shows the hlt line while another VM is at a breakpoint`, async () => {
      const quick = writeProgram('quick.s', QUICK);
      const dir = dirname(quick);
      writeFileSync(join(dir, 'slow.s'), SLOW);
      const path = join(dir, 'halts.vmem.json');
      writeFileSync(path, JSON.stringify({ vms: [{ name: 'quick', program: 'quick.s', mode }, { name: 'slow', program: 'slow.s', mode }] }));
      const ev = await launchAndStop(h.dc, { program: path, cwd: dir }, () => h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'finish' }] }));
      const threads = (await h.dc.threadsRequest()).body.threads;
      const quickThread = threads.find((t) => t.name.startsWith('quick'));
      assert.ok(quickThread, JSON.stringify(threads));
      assert.notEqual(ev.body.threadId, quickThread.id, 'the stop is in the slow VM');
      const top = (await h.dc.stackTraceRequest({ threadId: quickThread.id })).body.stackFrames[0];
      assert.equal(top.source?.name, 'quick.s');
      assert.equal(top.line, 5, 'the hlt line');
      assert.match(top.name, /^_start\+0x[0-9a-f]+ \((halted|stopped: hlt with interrupts disabled)\)$/);
      assert.notEqual(top.presentationHint, 'subtle');
    });
  }
});
