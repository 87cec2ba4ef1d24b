// Addresses from the Debug Console for "Translate Address…": which gvas a line of the adapter's
// output names (lines copied from real sessions: two-processes.s in shadow mode stopped at a
// hidden fault, and in nested mode at an EPT violation), the newest-first history, the picker's
// rows, a variable's gva from VARIABLES' context menu, and the vmem/showTranslation body.
import * as assert from 'node:assert/strict';
import { harvestAddresses, harvestEvaluation } from '../../../src/extension/ux/console/addressHarvest';
import type { HarvestedAddress } from '../../../src/extension/ux/console/addressHarvest';
import { AddressHistory, HISTORY_SIZE } from '../../../src/extension/ux/console/addressHistory';
import { GROUP_CLIPBOARD, GROUP_CONSOLE, GROUP_STOP, clipboardAddress, pickRows, typedRow } from '../../../src/extension/ux/commands/addressPick';
import type { PickRow } from '../../../src/extension/ux/commands/addressPick';
import { variableTarget } from '../../../src/extension/ux/commands/variableTranslation';
import { parseGvaReference } from '../../../src/extension/ux/gvaReference';
import { showTranslationOf } from '../../../src/extension/session/showTranslation';

type Want = Pick<HarvestedAddress, 'gva' | 'access' | 'where'>;
const short = (h: HarvestedAddress[]): Want[] => h.map(({ gva, access, where }) => ({ gva, access, where }));

describe('ux: addresses harvested from Debug Console text', () => {
  const cases: { what: string; text: string; want: Want[] }[] = [
    {
      what: 'a hidden-fault stop description (access from the error code part)',
      text: 'Hidden page fault at gva 0x00010131 (shadow miss; guest PDE (large page) present; fetch, error code 0x0)',
      want: [{ gva: '0x10131', access: 'fetch', where: undefined }],
    },
    {
      what: 'an EPT-violation description: the gva, not the gpa',
      text: 'EPT violation at gpa 0x00010000 (gva 0x00010000): fetch denied; EPT allowed ---; the final guest-physical address; mapped gpa page 0x10000 → machine frame 0x2 (already backed)',
      want: [{ gva: '0x10000', access: 'fetch', where: undefined }],
    },
    {
      what: 'a logEvents page fault: gva and access, the VM from the prefix, not rip',
      text: '[vm1] {"kind":"page-fault","gva":"0x8fff8","errorCode":0,"access":"read","user":false,"reason":"shadow miss; guest PDE (large page) present","hidden":true,"icount":932,"vcpu":0,"rip":"0x10131"}',
      want: [{ gva: '0x8fff8', access: 'read', where: 'vm1/vcpu0' }],
    },
    {
      what: "a logEvents VM exit: its guest-linear address, not the gpa or rip",
      text: '[vm1] {"kind":"vm-exit","reason":48,"reasonName":"EPT violation","qualification":"0x784","description":"fetch denied; EPT allowed ---; the final guest-physical address","guestLinear":"0x10000","guestPhysical":"0x10000","icount":0,"vcpu":0,"rip":"0x10000"}',
      want: [{ gva: '0x10000', access: undefined, where: 'vm1/vcpu0' }],
    },
    {
      what: 'a scenario VM name as the prefix; invlpg',
      text: '[shadowed] {"kind":"invlpg","gva":"0x400000","icount":77,"vcpu":0,"rip":"0x10200"}',
      want: [{ gva: '0x400000', access: undefined, where: 'shadowed/vcpu0' }],
    },
    {
      what: 'events without a gva (CR writes, MSR writes, flushes): nothing',
      text: [
        '[vm1] {"kind":"cr3-write","oldValue":"0x0","newValue":"0x100000","noFlush":false,"icount":925,"vcpu":0,"rip":"0x10110"}',
        '[vm1] {"kind":"msr-write","msr":3221225600,"value":"0x100","icount":929,"vcpu":0,"rip":"0x10124"}',
        '[vm1] {"kind":"tlb-flush","scope":"non-global","cause":"MOV CR3","entriesRemoved":0,"icount":925,"vcpu":0,"rip":"0x10110"}',
      ].join('\n'),
      want: [],
    },
    {
      what: "walk's output: the header's gva, access and vCPU, and the TLB entry's linear page; no table, gpa or mpa",
      text: [
        'gva 0x0000000000010019  vm1/vcpu0  shadow mode, 4level paging  (write, user; probe: no A/D, no TLB)',
        '  PML4E  table 0x00100000 [   0] @0x00100000 = 0x0000000000101027  ----A--UW  so far: user RW',
        '  PDE    table 0x00102000 [   0] @0x00102000 = 0x00000000000000a3  --P-A---W  (leaf)  so far: supervisor RW',
        '  → gpa 0x00010019  (2M page, supervisor RW)',
        '  gpa 0x00010019 → mpa 0x00001019',
        '  shadow: agrees: guest walk ∘ p2m = shadow = mpa 0x1019 (shadow read-only: traced table page or D not yet set)',
        '  sPTE    table 0x00013000 [  16] @0x00013080 = 0x0000000000001021  ----A----  (leaf)  so far: supervisor RO',
        '  TLB: 0000000000010000: 0000000000001000 ------   4K vpid 1 pcid 0 set 0 way 0',
      ].join('\n'),
      want: [{ gva: '0x10019', access: 'write', where: 'vm1/vcpu0' }, { gva: '0x10000', access: undefined, where: undefined }],
    },
    {
      what: "nested walk: EPT lines name gpas and mpas only",
      text: [
        'gva 0x0000000000010007  vm1/vcpu0  nested mode, paging off  (fetch; probe: no A/D, no TLB)',
        '  EPT final gpa 0x00010007:',
        '    EPT PTE   table 0x0000a000 [ 16] = 0x0000000000002077  R W X WB IPAT',
        '    → mpa 0x00002007 (4K page)',
        '  memory references of the 2-D walk: 4',
      ].join('\n'),
      want: [{ gva: '0x10007', access: 'fetch', where: 'vm1/vcpu0' }],
    },
    {
      what: "pte's one line, paging off",
      text: 'gva 0x0000000000090000: paging off (gva = gpa)',
      want: [{ gva: '0x90000', access: undefined, where: undefined }],
    },
    {
      what: "tlb's rows (pcid -1 too), not its header",
      text: [
        'TLB of vm1/vcpu0: vpid 1, current pcid 0, 2 valid entries (shared host TLB); hits 0, misses 4, flushes 4',
        '0000000000010000: 0000000000001000 ------   4K vpid 1 pcid 0 set 0 way 0',
        '000000000008f000: 0000000000007000 ---DUW   4K vpid 1 pcid -1 set 15 way 0',
      ].join('\n'),
      want: [{ gva: '0x10000', access: undefined, where: undefined }, { gva: '0x8f000', access: undefined, where: undefined }],
    },
    {
      what: "exits: the last exit's guest-linear address, not its guest-physical one",
      text: ['last exit:', '  reason: 0 exception or NMI', '  qualification: 0x8fff8', '  guest-linear address: 0x8fff8', '  guest-physical address: 0x10000', '  rip: 0x10131'].join('\n'),
      want: [{ gva: '0x8fff8', access: undefined, where: undefined }],
    },
    {
      what: 'guest console text, ept output, JSON that is not an event: nothing',
      text: ['Hello from the guest at 0x1000', 'EPTP 0x101e', 'EPT final gpa 0x00001000:', '{"gva":"0x1234"}', '[vm1] {"kind":"halt", broken'].join('\n'),
      want: [],
    },
  ];
  for (const c of cases) it(c.what, () => assert.deepEqual(short(harvestAddresses(c.text)), c.want));

  it('keeps the line (trimmed, shortened) for the picker', () => {
    const long = `Hidden page fault at gva 0x401000 (${'x'.repeat(300)})`;
    const [h] = harvestAddresses(`   ${long}\n`);
    assert.equal(h.line.length, 160);
    assert.ok(h.line.startsWith('Hidden page fault at gva 0x401000') && h.line.endsWith('…'));
  });

  const evaluations: [string, string, string | undefined, Want | undefined][] = [
    ['rsp', '0x90000  (589824)', 'gva:1/0:90000', { gva: '0x90000', access: undefined, where: 'vm1/vcpu0' }],
    ['rbx + 8', '0x401008  (4198408)', 'gva:2/1:0x401008', { gva: '0x401008', access: undefined, where: 'vm2/vcpu1' }],
    ['rax', '5  (5)', undefined, undefined],
    ['cr3', '0x100000', 'gpa:1:100000', undefined],
  ];
  for (const [expression, result, ref, want] of evaluations) {
    it(`an expression's value: ${expression} (${ref ?? 'no reference'})`, () => {
      const h = harvestEvaluation(expression, result, ref);
      assert.deepEqual(h && { gva: h.gva, access: h.access, where: h.where }, want);
      if (h) assert.equal(h.line, `${expression} = ${result}`);
    });
  }
});

describe('ux: the Debug Console address history', () => {
  const a = (gva: string, line = `line ${gva}`): HarvestedAddress => ({ gva, line });

  it('is newest first and distinct; seeing an address again moves it up with its newest line', () => {
    const h = new AddressHistory();
    h.add([a('0x1'), a('0x2')]);
    h.add([a('0x3')]);
    h.add([a('0x1', 'again')]);
    assert.deepEqual(h.list().map((x) => x.gva), ['0x1', '0x3', '0x2']);
    assert.equal(h.list()[0].line, 'again');
  });

  it(`keeps the last ${HISTORY_SIZE}, also from one large batch (the last of a repeated address wins)`, () => {
    const h = new AddressHistory();
    const batch = Array.from({ length: 50 }, (_, i) => a('0x' + (i % 30).toString(16), `#${i}`));
    h.add(batch);
    const list = h.list();
    assert.equal(list.length, HISTORY_SIZE);
    assert.deepEqual(list.map((x) => x.line), Array.from({ length: HISTORY_SIZE }, (_, i) => `#${49 - i}`));
    h.add([a('0xfff')]);
    assert.equal(h.list().length, HISTORY_SIZE);
    assert.equal(h.list()[0].gva, '0xfff');
    assert.equal(h.list().at(-1)?.line, '#31');
  });
});

describe('ux: the Translate Address picker', () => {
  const items = (rows: PickRow[]): string[] => rows.map((r) => (r.kind === 'separator' ? `— ${r.label}` : r.label));
  const consoleAddresses: HarvestedAddress[] = [
    { gva: '0x8fff8', line: '[vm1] {"kind":"page-fault","gva":"0x8fff8"}', access: 'read', where: 'vm1/vcpu0' },
    { gva: '0x10131', line: 'Hidden page fault at gva 0x00010131 (…)', access: 'fetch' },
    { gva: '0x10000', line: '0000000000010000: 0000000000001000 ------   4K vpid 1 pcid 0 set 0 way 0' },
  ];

  it('offers the stop, then the console (without the stop\'s address again), then the clipboard', () => {
    const rows = pickRows('', { focus: { gva: '0x10131', access: 'fetch', where: 'vm1/vcpu0' }, console: consoleAddresses, clipboard: '0x0000000000401000', stopped: true });
    assert.deepEqual(items(rows), [`— ${GROUP_STOP}`, '0x10131', `— ${GROUP_CONSOLE}`, '0x8fff8', '0x10000', `— ${GROUP_CLIPBOARD}`, '0x401000']);
    const first = rows[1];
    assert.ok(first.kind === 'item');
    assert.deepEqual(first.choice, { kind: 'address', gva: '0x10131', access: 'fetch' });
    assert.equal(first.description, 'the current fault or last access · vm1/vcpu0 · fetch');
    const fromConsole = rows[3];
    assert.ok(fromConsole.kind === 'item');
    assert.equal(fromConsole.detail, consoleAddresses[0].line);
    assert.deepEqual(fromConsole.choice, { kind: 'address', gva: '0x8fff8', access: 'read' });
  });

  it('leaves out empty groups and a clipboard that is not an address or already offered', () => {
    assert.deepEqual(items(pickRows('', { console: [], clipboard: 'hello', stopped: false })), []);
    assert.deepEqual(items(pickRows('', { console: consoleAddresses.slice(0, 1), clipboard: ' 0x8FFF8 ', stopped: false })), [`— ${GROUP_CONSOLE}`, '0x8fff8']);
  });

  const typed: [string, boolean, string | undefined, string][] = [
    ['0x401000', false, 'address:0x401000', '$(arrow-right) 0x401000'],
    ['4198400', false, 'address:0x401000', '$(arrow-right) 0x401000'],
    ['rbx + 8', true, 'expression:rbx + 8', '$(symbol-variable) rbx + 8'],
    ['rbx + 8', false, 'invalid', '$(error) An expression needs a stopped vmem debug session'],
    ['12ab', true, 'invalid', "$(error) '12ab' is not a hex"],
  ];
  for (const [text, stopped, choice, label] of typed) {
    it(`typed ${JSON.stringify(text)} (${stopped ? 'stopped' : 'no session'}) comes first and always shows`, () => {
      const rows = pickRows(text, { console: consoleAddresses, stopped });
      const r = rows[0];
      assert.ok(r.kind === 'item' && r.alwaysShow === true);
      assert.ok(r.label.startsWith(label), r.label);
      const c = r.choice;
      assert.equal(c.kind === 'address' ? `address:${c.gva}` : c.kind === 'expression' ? `expression:${c.text}` : c.kind, choice);
      assert.equal(rows.length, 1 + 1 + consoleAddresses.length, 'the other rows stay (VS Code filters them)');
    });
  }
  it('nothing typed, no typed row', () => assert.equal(typedRow('  ', true), undefined));

  const clipboards: [string | undefined, string | undefined][] = [['0x0000000000401000', '0x401000'], ['4198400', '0x401000'], ['  0x10_0000\n', '0x100000'], ['rax', undefined], ['gva 0x401000', undefined], [undefined, undefined]];
  for (const [text, want] of clipboards) it(`clipboard ${JSON.stringify(text)}`, () => assert.equal(clipboardAddress(text), want));
});

describe('ux: a variable from VARIABLES\' context menu', () => {
  // What VS Code 1.100 passes: { sessionId, container, variable } (DAP objects).
  const arg = (variable: object): unknown => ({ sessionId: 's', container: { name: 'Registers', variablesReference: 1, expensive: false }, variable });
  const cases: [string, unknown, object | undefined][] = [
    ['rsp by its gva reference', arg({ name: 'rsp', value: '0x0000000000090000', memoryReference: 'gva:1/0:90000', variablesReference: 0 }), { gva: '0x90000', name: 'rsp', access: undefined, vm: 1, vcpu: 0 }],
    ['rip is walked as a fetch', arg({ name: 'rip', value: '0x0000000000010019', memoryReference: 'gva:2/1:0x10019', variablesReference: 0 }), { gva: '0x10019', name: 'rip', access: 'fetch', vm: 2, vcpu: 1 }],
    ['the Translation scope address', arg({ name: 'address', value: '0x0000000000401000', memoryReference: 'gva:1/0:401000', variablesReference: 0 }), { gva: '0x401000', name: 'address', access: undefined, vm: 1, vcpu: 0 }],
    ['no reference: the value\'s first word', arg({ name: 'x', value: '0x401000  [table 0x1000]', variablesReference: 0 }), { gva: '0x401000', name: 'x', access: undefined }],
    ['a gpa reference is not a gva: the value decides', arg({ name: 'base', value: 'not an address', memoryReference: 'gpa:1:100000', variablesReference: 0 }), undefined],
    ['no variable', { sessionId: 's' }, undefined],
    ['nothing', undefined, undefined],
  ];
  for (const [what, a, want] of cases) it(what, () => assert.deepEqual(variableTarget(a), want));

  const refs: [unknown, object | undefined][] = [['gva:1/0:0x00401000', { vm: 1, vcpu: 0, gva: '0x401000' }], ['gva:3/2:ffffffffffffffff', { vm: 3, vcpu: 2, gva: '0xffffffffffffffff' }], ['gva:1:1000', undefined], ['mpa:1000', undefined], [42, undefined]];
  for (const [ref, want] of refs) it(`memory reference ${JSON.stringify(ref)}`, () => assert.deepEqual(parseGvaReference(ref), want));
});

describe('session: the vmem/showTranslation body', () => {
  const cases: [unknown, object | undefined][] = [
    [{ vm: 1, vcpu: 0, gva: '0x00010131', access: 'fetch', user: false }, { vm: 1, vcpu: 0, gva: '0x10131', access: 'fetch', user: false }],
    [{ vm: 2, vcpu: 1, gva: '0xFFFF800000001000', access: 'write', user: true }, { vm: 2, vcpu: 1, gva: '0xffff800000001000', access: 'write', user: true }],
    [{ vm: 1, vcpu: 0, gva: 4096, access: 'sideways' }, { vm: 1, vcpu: 0, gva: '0x1000', access: 'read', user: false }],
    [{ vm: 1, vcpu: 0, gva: 'rip' }, undefined],
    [{ vm: -1, vcpu: 0, gva: '0x1' }, undefined],
    [{ gva: '0x1' }, undefined],
    [null, undefined],
  ];
  for (const [body, want] of cases) it(JSON.stringify(body), () => assert.deepEqual(showTranslationOf(body), want));
});
