// Debug Console commands, printed the way systems debuggers print: `walk`, `translate`, `pte`,
// `ept`, `tlb`, `exits`, `info vm`, `help`. Arguments are expressions (registers, labels,
// [memory]). A line that is not a command is evaluated as an expression. Nothing here changes
// the machine; `translate` only asks the client to show its address (ConsoleResult.translation).
import type { WalkAccess } from '../../engine/mmu/walkRecord';
import type { SecondStageWalk } from '../../engine/mmu/walkRecord';
import { exitReasonName } from '../../engine/vmm/exitReasons';
import type { InspectTarget, InspectedVm } from './target';
import { InspectError, vcpuOf, vmById } from './target';
import { evaluateNumber, formatValue, parseExpression } from '../runtime/expression';
import { inspectEvalContext } from './evalContext';
import { guestPagingMode, hardwareMmu, probeTranslation } from './translation';
import { eptLines, pteText, tlbLine, walkText } from './walkText';
import { hex, sizeText } from './format';
import { nestedOf, shadowOf } from './modeParts';
import { describeLastExit } from './exitInfo';

export interface ConsoleContext {
  vm: number;
  vcpu: number;
}

/** What `translate` asks the client to open its Address Translation view on. */
export interface TranslationRequest {
  gva: bigint;
  access: WalkAccess;
  user: boolean;
}

export interface ConsoleResult {
  /** The text to print. */
  text: string;
  /** Set when the line was an expression: its value (for the session's evaluate response). */
  value?: bigint;
  /** Set by `translate`: the session sends it to the client as the `vmem/showTranslation` event. */
  translation?: TranslationRequest;
}

export const HELP = `Commands (arguments are expressions: 0x1000, 4096, rax + 8, my_label, [rsp], dword [rbx + 4], gpa(rip)):
  walk <gva> [read|write|fetch] [user]   every level of the page walk (nested: each EPT step;
                                         shadow: the shadow entry and whether it agrees), TLB entry
  translate <gva> [read|write|fetch] [user]   (alias xlat) the walk, and opens the Address
                                         Translation panel on that gva
  pte <gva>                              the leaf page-table entry only
  ept <gpa>                              the EPT walk of a guest-physical address (nested mode)
  tlb                                    this vCPU's TLB entries (like QEMU's info tlb)
  exits                                  VM exits by reason, and the last exit decoded
  info vm                                mode, memory, vCPUs, execution controls, frames
  help                                   this text
Anything else is evaluated as an expression; probes never set A/D bits or fill the TLB.`;

type Handler = (t: InspectTarget, v: InspectedVm, vcpu: number, args: string[]) => string | ConsoleResult;

const ACCESSES: WalkAccess[] = ['read', 'write', 'fetch'];

function arg(t: InspectTarget, v: InspectedVm, vcpu: number, args: string[], what: string): bigint {
  const text = args.join(' ');
  if (!text) throw new InspectError(`expected ${what}`);
  return evaluateNumber(text, inspectEvalContext(t, v, vcpu));
}

/** `<gva> [read|write|fetch] [user]`: trailing words are options only after an address expression. */
function walkQuery(t: InspectTarget, v: InspectedVm, vcpu: number, args: string[]): TranslationRequest {
  const rest = [...args];
  let access: WalkAccess = 'read';
  let user = false;
  while (rest.length > 1 && ((ACCESSES as string[]).includes(rest[rest.length - 1]) || rest[rest.length - 1] === 'user')) {
    const w = rest.pop()!;
    if (w === 'user') user = true;
    else access = w as WalkAccess;
  }
  return { gva: arg(t, v, vcpu, rest, 'a guest-virtual address'), access, user };
}

const translate: Handler = (t, v, vcpu, args) => {
  const q = walkQuery(t, v, vcpu, args);
  const probe = probeTranslation(t, v, vcpu, q.gva, q.access, q.user);
  // The probe's gva is the 64-bit pattern (rsp - 8 may be written as a negative number).
  return { text: walkText(probe), translation: { ...q, gva: probe.gva } };
};

const COMMANDS: Record<string, Handler> = {
  walk: (t, v, vcpu, args) => {
    const q = walkQuery(t, v, vcpu, args);
    return walkText(probeTranslation(t, v, vcpu, q.gva, q.access, q.user));
  },
  translate,
  xlat: translate,
  pte: (t, v, vcpu, args) => pteText(probeTranslation(t, v, vcpu, arg(t, v, vcpu, args, 'a guest-virtual address'))),
  ept: (t, v, vcpu, args) => {
    const n = nestedOf(v);
    if (!n) return `VM ${v.id} runs in ${v.vm.mode} mode: it has no EPT`;
    const gpa = Number(arg(t, v, vcpu, args, 'a guest-physical address'));
    return eptText(n.vmm.ept.walk(gpa, 'read', { purpose: 'final', setAccessedDirty: false, caches: null }).walk, n.vmm.ept.eptp);
  },
  tlb: (_t, v, vcpu) => tlbText(v, vcpu),
  exits: (_t, v) => exitsText(v),
  info: (t, v, _vcpu, args) => {
    if (args[0] !== 'vm') throw new InspectError(`unknown 'info ${args.join(' ')}': try 'info vm'`);
    return infoVmText(t, v);
  },
  help: () => HELP,
};

/** Is this line a console command (rather than an expression)? */
export function isCommand(line: string): boolean {
  const word = line.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  return Object.prototype.hasOwnProperty.call(COMMANDS, word);
}

/** Runs a console line: a command, or else an expression. Errors come back as InspectError / ExpressionError. */
export function runConsole(t: InspectTarget, ctx: ConsoleContext, line: string): ConsoleResult {
  const v = vmById(t, ctx.vm);
  vcpuOf(v, ctx.vcpu);
  const words = line.trim().split(/\s+/);
  const h = isCommand(line) ? COMMANDS[words[0].toLowerCase()] : undefined;
  if (h) {
    const r = h(t, v, ctx.vcpu, words.slice(1));
    return typeof r === 'string' ? { text: r } : r;
  }
  const value = parseExpression(line).evaluate(inspectEvalContext(t, v, ctx.vcpu));
  return typeof value === 'string' ? { text: formatValue(value) } : { text: `${hex(value)} (${value})`, value };
}

export function eptText(w: SecondStageWalk, eptp: bigint): string {
  return [`EPTP ${hex(eptp)}`, ...eptLines(w, '')].join('\n');
}

export function tlbText(v: InspectedVm, vcpu: number): string {
  const mmu = hardwareMmu(v, vcpu);
  const tlb = v.vm.tlbs[vcpu];
  if (!mmu || !tlb) return 'no TLB';
  const mine = tlb.entries().filter((e) => e.vpid === mmu.vpid);
  const c = tlb.counters();
  const head = `TLB of vm${v.id}/vcpu${vcpu}: vpid ${mmu.vpid}, current pcid ${mmu.currentPcid}, ${mine.length} valid entr${mine.length === 1 ? 'y' : 'ies'}` +
    `${tlb === v.vm.tlbs[vcpu] && v.vm.mode !== 'native' ? ' (shared host TLB)' : ''}; hits ${c.hits}, misses ${c.misses}, flushes ${c.flushes}`;
  const rows = mine.sort((a, b) => a.linearBase - b.linearBase || a.pcid - b.pcid).map(tlbLine);
  return [head, ...(rows.length ? rows : ['(empty)'])].join('\n');
}

export function exitsText(v: InspectedVm): string {
  const m = v.monitor;
  if (!m) return `VM ${v.id} runs natively: no hypervisor, no VM exits`;
  const rows = [...m.exitCounts].sort((a, b) => a[0] - b[0]).map(([r, n]) => `  ${String(r).padStart(3)} ${exitReasonName(r).padEnd(26)} ${n}`);
  const last = describeLastExit(v);
  return [`VM exits of vm${v.id}: ${m.totalExits}`, ...(rows.length ? rows : ['  (none)']), last ? `last exit:\n${last.map((l) => '  ' + l).join('\n')}` : 'last exit: none'].join('\n');
}

export function infoVmText(t: InspectTarget, v: InspectedVm): string {
  const out: string[] = [];
  const vm = v.vm;
  out.push(`vm${v.id} "${v.name}": ${vm.mode} mode, ${sizeText(vm.mem.size)} guest memory (${vm.mem.touchedFrames} frames touched), ${vm.vcpus.length} vCPU(s), ${vm.icount} instructions`);
  vm.vcpus.forEach((c, i) => {
    out.push(`  vcpu${i}: ${c.state}${c.stopReason ? ` (${c.stopReason})` : ''}, rip ${hex(c.ripValue)}, cpl ${c.cpl}, ${guestPagingMode(v, i)} paging, cr3 ${hex(c.cr3)}, ${c.icount} instructions`);
  });
  const ctl = v.monitor?.controls;
  if (ctl) {
    const on = Object.entries(ctl).filter(([, x]) => x === true).map(([k]) => k);
    out.push(`  controls: ${on.join(', ') || 'none'}; vpid ${ctl.vpid}; exception bitmap ${hex(ctl.exceptionBitmap)}; cr0 mask ${hex(ctl.cr0GuestHostMask)}; cr4 mask ${hex(ctl.cr4GuestHostMask)}`);
  }
  const n = nestedOf(v);
  if (n) out.push(`  EPT: eptp ${hex(n.vmm.ept.eptp)}, ${n.vmm.ept.levels} levels, ${n.vmm.ept.tableFrames().length} table frames`);
  const s = shadowOf(v);
  if (s) out.push(`  shadow: ${s.tables.pages.size} shadow pages, ${s.tables.traced.size} traced guest frames, sync ${s.tables.sync}`);
  if (t.machine && v.p2m) {
    const counts = t.machine.memory.frames.census().byOwner.get(v.p2m.owner);
    if (counts) out.push(`  frames: ${Object.entries(counts).filter(([, x]) => x > 0).map(([k, x]) => `${k} ${x}`).join(', ') || 'none'}; p2m backs ${v.p2m.backedPages} of ${v.p2m.pages} pages`);
  }
  const stats = v.instance?.stats?.();
  if (stats && Object.keys(stats).length) out.push(`  ${Object.entries(stats).map(([k, x]) => `${k} ${x}`).join(', ')}`);
  return out.join('\n');
}
