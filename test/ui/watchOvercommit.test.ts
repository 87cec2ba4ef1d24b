// Runs last of the UI suites (files run in name order): the panels it leaves open must not
// disturb the restore suite, which expects exactly its own three.
// Memory overcommitment watched in the real workbench, against the packaged .vsix: an
// overcommitted scenario (three VMs touching 150 pages each on a 256-page machine) stops on the
// "Reclamation state change" filter; the Memory Overcommit panel shows the three VMs and the
// state the stop names, and the Machine Memory panel shows each VM's guest pages by state.
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workbench } from './workbench';
import { TOUCH_GUEST as TOUCH } from '../support/touchGuest';

const CONFIG = 'overcommitted machine';
const SCENARIO = 'overcommit.vmem.json';

describe('memory overcommitment in the workbench', function () {
  this.timeout(180_000);
  let wb: Workbench;

  before(async () => {
    wb = Workbench.fromContext('overcommit');
    writeFileSync(join(wb.workspace, 'touch.s'), TOUCH);
    writeFileSync(join(wb.workspace, SCENARIO), JSON.stringify({
      machine: { memoryMiB: 1, memsched: { balancePeriodS: 0.5 } },
      vms: ['alpha', 'beta', 'gamma'].map((name) => ({ name, program: 'touch.s', mode: name === 'beta' ? 'nested' : 'shadow', memoryMiB: 12 })),
    }, null, 2));
    wb.writeLaunchJson([{ type: 'vmem', request: 'launch', name: CONFIG, program: `\${workspaceFolder}/${SCENARIO}`, stopOnEntry: true }]);
    await wb.open();
    await wb.runCommand('View: Close All Editor Groups');
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await wb.shot(`failed-${this.currentTest.title.replace(/\W+/g, '-')}`);
  });

  let state = '';

  it('stops on a reclamation-state change with its description', async () => {
    await wb.startDebugging(CONFIG);
    await wb.waitForPaused(/entry/i);
    await wb.enableExceptionFilter('Reclamation state change');
    await wb.continue();
    // The stop is in the VMM's time, not at a guest instruction with a source line (the vCPU
    // may have halted): CALL STACK's paused label carries the description.
    const label = await wb.waitForPaused(/reclamation state/i);
    const m = /Reclamation state high → (soft|hard|low) \(\d+\.\d % free\)/i.exec(label);
    assert.ok(m, label);
    state = m[1];
    await wb.shot('paused-on-reclaim-state');
  });

  it('the Memory Overcommit panel shows the three VMs and that state', async () => {
    await wb.runCommand('VMem: Show Memory Overcommit');
    const text = await wb.webviewText(/Virtual machines[\s\S]*alpha[\s\S]*beta[\s\S]*gamma/);
    assert.match(text, new RegExp(`\\b${state}\\b`, 'i'), 'the panel names the state the stop reported');
    assert.match(text, /policy idle-tax · τ 0\.75/);
    await wb.shot('overcommit-panel');
  });

  it('the Machine Memory panel shows each VM\'s guest pages by state', async () => {
    await wb.runCommand('VMem: Show Machine Memory');
    const text = await wb.webviewText(/Guest-physical pages[\s\S]*alpha[\s\S]*beta[\s\S]*gamma/);
    for (const word of ['private', 'shared', 'ballooned', 'swapped', 'unbacked']) assert.match(text, new RegExp(word));
    await wb.shot('machine-memory-guest-pages');
  });

  it('stops debugging', async () => {
    await wb.stopDebugging();
  });
});
