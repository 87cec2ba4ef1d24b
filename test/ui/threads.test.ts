// The views follow the thread the user clicks in CALL STACK, against the packaged .vsix: a guest
// with two vCPUs in two address spaces (test/extensionHost/twoCpus.ts) stops at a breakpoint in
// vcpu1's loop; clicking vm1/vcpu0 and back must move the status bar, the Page Tables view's
// guest root and the TLB view to that vCPU, as the bundled adapter alone reports it.
import * as assert from 'node:assert/strict';
import { AP_LOOP_LINE, TWO_CPUS_CR3, TWO_CPUS_FILE, writeTwoCpus } from '../extensionHost/twoCpus';
import { referenceVcpusAtBreakpoint } from './reference';
import type { ReferenceVcpu } from './reference';
import { hexPattern, ungrouped } from './text';
import { Workbench, poll } from './workbench';

const CONFIG = 'two vCPUs';

describe('the views follow the thread clicked in CALL STACK', function () {
  this.timeout(180_000);
  let wb: Workbench;
  let ref: ReferenceVcpu[];

  before(async () => {
    wb = Workbench.fromContext('threads');
    const program = writeTwoCpus(wb.workspace);
    ref = (await referenceVcpusAtBreakpoint(program, { vcpus: 2 }, AP_LOOP_LINE)).vcpus;
    assert.deepEqual(ref.map((r) => r.root.address), [...TWO_CPUS_CR3], 'the reference stop has both vCPUs paged in');
    assert.deepEqual(ref.map((r) => r.tlb.entries.length), [1, 2], 'the two TLBs differ (vcpu1 touched its second page)');
    wb.writeLaunchJson([{ type: 'vmem', request: 'launch', name: CONFIG, program: `\${workspaceFolder}/${TWO_CPUS_FILE}`, vcpus: 2 }]);
    await wb.open();
    // The suites share one workbench: start from no editors (the restore suite leaves four groups).
    await wb.runCommand('View: Close All Editor Groups');
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await wb.shot(`failed-${this.currentTest.title.replace(/\W+/g, '-')}`);
  });

  /** The status bar, the Page Tables view's guest root and the TLB view all show vm1/vcpu`vcpu`. */
  async function assertViewsShow(vcpu: number): Promise<void> {
    const r = ref[vcpu];
    // The paging segment follows once the adapter has answered vmem/tableRoots for the new vCPU.
    const status = await wb.statusBarText(new RegExp(`^vm1/vcpu${vcpu} · \\S+ · `));
    assert.equal(status, `vm1/vcpu${vcpu} · native · 32-bit`);

    // The views refresh when they are shown: read them until they agree (or time out with why not).
    await wb.openView('Page Tables', 'VMem');
    await poll(`the Page Tables view's guest root to be vcpu${vcpu}'s`, async () => {
      const guest = (await wb.waitForTreeRow('Page Tables', /^Guest PT$/)).find((row) => row.label === 'Guest PT');
      const description = ungrouped(guest?.description ?? '');
      assert.match(description, new RegExp(`^cr3 of vcpu${vcpu} · `), description);
      assert.match(description, hexPattern(r.root.address), `the guest root is vcpu${vcpu}'s CR3 ${r.root.address.toString(16)}: ${description}`);
      assert.doesNotMatch(description, hexPattern(ref[1 - vcpu].root.address), 'not the other vCPU\'s root');
      return true;
    });

    await wb.openView('TLB', 'VMem');
    const want = r.tlb.entries.map((e) => new RegExp(`${hexPattern(e.vpn).source}\\s*→\\s*${hexPattern(Math.floor(e.frame / 4096)).source}`, 'i'));
    await poll(`the TLB view to show vcpu${vcpu}'s entries`, async () => {
      const header = await wb.paneDescription('TLB');
      assert.match(header, new RegExp(`^vm1/vcpu${vcpu} · `), header);
      const labels = (await wb.treeRows('TLB')).filter((row) => /→/.test(row.label)).map((row) => ungrouped(row.label));
      assert.equal(labels.length, want.length, `vcpu${vcpu}'s TLB: ${labels.join(' | ')}`);
      for (const re of want) assert.ok(labels.some((l) => re.test(l)), `no TLB row ${re} in ${labels.join(' | ')}`);
      return true;
    });
  }

  it('stops at the breakpoint in vcpu1\'s loop: the views show vcpu1', async () => {
    await wb.openFile(TWO_CPUS_FILE);
    await wb.toggleBreakpoint(AP_LOOP_LINE);
    await wb.startDebugging(CONFIG);
    await wb.waitForPaused(/breakpoint/i);
    await wb.shot('paused-in-vcpu1');
    await assertViewsShow(1);
  });

  it('clicking vm1/vcpu0 in CALL STACK moves the views to vcpu0', async () => {
    await wb.selectThread('vm1/vcpu0');
    await wb.shot('picked-vcpu0');
    await assertViewsShow(0);
    await wb.shot('views-on-vcpu0');
  });

  it('clicking vm1/vcpu1 brings them back', async () => {
    await wb.selectThread('vm1/vcpu1');
    await assertViewsShow(1);
    await wb.shot('views-on-vcpu1');
  });

  it('stops debugging', async () => {
    await wb.stopDebugging();
  });
});
