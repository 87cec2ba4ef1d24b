// The scopes of a stopped vCPU as plain trees: Registers, Control registers, Last VM exit,
// Translation, Execution controls. The session turns each node into a DAP variable (children
// → a variablesReference); names, values, evaluateName and memoryReference are final here.
import type { WalkLevel, WalkRecord, SecondStageWalk } from '../../engine/mmu/walkRecord';
import { entryName } from '../../engine/mmu/walkRecord';
import { REG64 } from '../../engine/isa/registers';
import { EPT_LEVEL_NAMES, describeEptEntry } from '../../engine/vmm/nested/eptFormat';
import { Mmu } from '../../engine/mmu/mmu';
import { ShadowMmu } from '../../engine/vmm/shadow/shadowMmu';
import { ParavirtMmuPort } from '../../engine/vmm/paravirt/paravirtPort';
import type { InspectTarget, InspectedVm } from './target';
import { vcpuOf } from './target';
import { CR0_BITS, CR4_BITS, EFER_BITS, RFLAGS_BITS, fieldValue, setFlagNames } from './registers';
import type { BitField } from './registers';
import { hex, hex64, sizeText } from './format';
import { gvaRef, gpaRef, mpaRef } from './memoryRef';
import { entryFlagLetters } from './walkText';
import { exitFields } from './exitInfo';
import { exitReasonName } from '../../engine/vmm/exitReasons';
import { guestPagingMode } from './translation';

export interface InspectVariable {
  name: string;
  value: string;
  children?: InspectVariable[];
  memoryReference?: string;
  evaluateName?: string;
}

export type ScopeName = 'Registers' | 'Control registers' | 'Last VM exit' | 'Translation' | 'Execution controls';

export interface InspectScope {
  name: ScopeName;
  variables: InspectVariable[];
  /** Cheap to build (the session may expand it by default). */
  expensive: boolean;
}

const leaf = (name: string, value: string, extra: Partial<InspectVariable> = {}): InspectVariable => ({ name, value, ...extra });

function bitChildren(v: bigint, fields: readonly BitField[], evalPrefix?: string): InspectVariable[] {
  return fields.map((f) => leaf(f.name, `${fieldValue(v, f)}  (${f.title})`, evalPrefix ? { evaluateName: f.name.toLowerCase() } : {}));
}

export function registersScope(v: InspectedVm, vcpu: number): InspectVariable[] {
  const cpu = vcpuOf(v, vcpu);
  const out = REG64.map((r, i) => {
    const val = cpu.getReg(i);
    return leaf(r, hex64(val), { evaluateName: r, memoryReference: gvaRef(v.id, vcpu, BigInt.asUintN(64, val)) });
  });
  out.push(leaf('rip', hex64(cpu.ripValue), { evaluateName: 'rip', memoryReference: gvaRef(v.id, vcpu, cpu.ripValue) }));
  const fl = BigInt(cpu.rflags >>> 0);
  out.push(leaf('rflags', `${hex(fl, 8)}  [${setFlagNames(fl, RFLAGS_BITS)}]`, { evaluateName: 'rflags', children: bitChildren(fl, RFLAGS_BITS, 'rflags') }));
  out.push(leaf('cpl', String(cpu.cpl), { evaluateName: 'cpl' }));
  return out;
}

export function controlRegistersScope(v: InspectedVm, vcpu: number): InspectVariable[] {
  const cpu = vcpuOf(v, vcpu);
  const cr0 = BigInt(cpu.cr0 >>> 0);
  const cr4 = BigInt(cpu.cr4 >>> 0);
  const efer = BigInt(cpu.efer >>> 0);
  const cr3 = BigInt(cpu.cr3);
  const paging = guestPagingMode(v, vcpu);
  const pcide = (cr4 >> 17n) & 1n;
  const base = paging === 'pae' ? cr3 & 0xffffffe0n : paging === '32bit' ? cr3 & 0xfffff000n : cr3 & 0x000ffffffffff000n;
  const cr3Children: InspectVariable[] = [
    leaf('base', hex(base), { memoryReference: v.vm.mode === 'paravirt' ? mpaRef(base) : gpaRef(v.id, base) }),
    leaf('PCID', pcide ? String(cr3 & 0xfffn) : '0 (CR4.PCIDE=0)'),
    leaf('PWT', String((cr3 >> 3n) & 1n)),
    leaf('PCD', String((cr3 >> 4n) & 1n)),
  ];
  const out = [
    leaf('cr0', `${hex(cr0, 8)}  [${setFlagNames(cr0, CR0_BITS)}]`, { evaluateName: 'cr0', children: bitChildren(cr0, CR0_BITS) }),
    leaf('cr2', hex64(cpu.cr2), { evaluateName: 'cr2', memoryReference: gvaRef(v.id, vcpu, BigInt.asUintN(64, cpu.cr2)) }),
    leaf('cr3', `${hex(cr3)}  [table ${hex(base)}${pcide ? ` pcid ${cr3 & 0xfffn}` : ''}]`, { evaluateName: 'cr3', children: cr3Children }),
    leaf('cr4', `${hex(cr4, 8)}  [${setFlagNames(cr4, CR4_BITS)}]`, { evaluateName: 'cr4', children: bitChildren(cr4, CR4_BITS) }),
    leaf('efer', `${hex(efer, 8)}  [${setFlagNames(efer, EFER_BITS)}]`, { evaluateName: 'efer', children: bitChildren(efer, EFER_BITS) }),
    leaf('paging', paging === 'none' ? 'off' : paging),
  ];
  const port = v.vm.mmus[vcpu];
  if (paging === 'pae' && port instanceof Mmu) out.push(leaf('PDPTE registers', '4', { children: port.pdptes().map((e, i) => leaf(`PDPTE${i}`, hex64(e))) }));
  if (port instanceof ShadowMmu) out.push(leaf('hardware cr3 (shadow root)', hex(port.hardwareCr3), { memoryReference: mpaRef(port.hardwareCr3 - (port.hardwareCr3 % 4096)) }));
  return out;
}

export function lastExitScope(v: InspectedVm): InspectVariable[] {
  const m = v.monitor;
  if (!m) return [leaf('(native mode)', 'no hypervisor: no VM exits')];
  const e = m.lastExit;
  const out: InspectVariable[] = e ? exitFields(e).map(([k, x]) => leaf(k, x)) : [leaf('last exit', 'none yet')];
  if (e?.guestLinear !== undefined) out.find((x) => x.name === 'guest-linear address')!.memoryReference = gvaRef(v.id, e.vcpu, e.guestLinear);
  if (e?.guestPhysical !== undefined) out.find((x) => x.name === 'guest-physical address')!.memoryReference = gpaRef(v.id, e.guestPhysical);
  const counts = [...m.exitCounts].sort((a, b) => a[0] - b[0]).map(([r, n]) => leaf(`${r} ${exitReasonName(r)}`, String(n)));
  out.push(leaf('exit counts', `${m.totalExits} total`, { children: counts }));
  return out;
}

function eptStepVariables(w: SecondStageWalk): InspectVariable[] {
  const levels = w.levels.map((l) => leaf(EPT_LEVEL_NAMES[l.level] ?? l.name, hex64(l.entry), {
    memoryReference: mpaRef(l.entryAddress),
    children: [
      leaf('table', hex(l.tableAddress), { memoryReference: mpaRef(l.tableAddress) }),
      leaf('index', String(l.index)),
      leaf('entry', describeEptEntry(l.level, Number(l.entry & 0xffffffffn), Number(l.entry >> 32n)).replace(/^.*?: /, '')),
      ...(l.entryAfter !== l.entry ? [leaf('entry after A/D', hex64(l.entryAfter))] : []),
    ],
  }));
  return [...levels, leaf('result', w.ok ? `mpa ${hex(w.mpa ?? 0)} (${sizeText(w.pageSize ?? 4096)})` : w.outcome ?? 'violation'), leaf('memory references', String(w.memoryReferences))];
}

function levelVariable(v: InspectedVm, l: WalkLevel): InspectVariable {
  const space = (a: number): string => (v.vm.mode === 'paravirt' || v.vm.mode === 'native' ? mpaRef(a) : gpaRef(v.id, a));
  const children: InspectVariable[] = [
    leaf('table address', hex(l.tableAddress), { memoryReference: space(l.tableAddress) }),
    leaf('index', String(l.index)),
    leaf('entry', hex64(l.entry), { memoryReference: space(l.entryAddress) }),
    leaf('flags', entryFlagLetters(l.flags), {
      children: Object.entries(l.flags).map(([k, x]) => leaf(k.toUpperCase(), x ? '1' : '0')),
    }),
    leaf('rights so far', `${l.rightsSoFar.user ? 'U' : 'S'} ${l.rightsSoFar.write ? 'RW' : 'RO'}${l.rightsSoFar.execute ? ' X' : ' NX'}`),
    leaf('A/D written', `${l.accessedSet ? 'A' : ''}${l.dirtySet ? 'D' : ''}` || 'none'),
  ];
  if (l.entryAfter !== l.entry) children.push(leaf('entry after', hex64(l.entryAfter)));
  if (l.reservedBits.length) children.push(leaf('reserved bits set', l.reservedBits.join(', ')));
  if (l.secondStage) children.push(leaf('EPT walk', `gpa ${hex(l.secondStage.gpa)}`, { children: eptStepVariables(l.secondStage) }));
  return leaf(`${entryName(l.name)} [${l.index}]`, `${hex64(l.entry)}  ${entryFlagLetters(l.flags)}`, { children });
}

export function walkRecordVariables(v: InspectedVm, vcpu: number, w: WalkRecord): InspectVariable[] {
  const out: InspectVariable[] = [
    leaf('address', hex64(w.linear), { memoryReference: gvaRef(v.id, vcpu, w.linear) }),
    leaf('access', `${w.access}${w.user ? ' (user)' : ' (supervisor)'}`),
    leaf('paging', w.mode),
    ...w.levels.map((l) => levelVariable(v, l)),
    leaf('result', w.ok ? `${hex(w.physical ?? 0)} (${sizeText(w.pageSize ?? 4096)} page${w.global ? ', global' : ''})` : `fault: ${w.reason ?? ''}${w.errorCode !== undefined ? ` (error code ${hex(w.errorCode)})` : ''}`),
    leaf('memory references', `${w.memoryReferences} (${w.entryReads} entry reads, ${w.adWrites} A/D writes${w.secondStageReferences ? `, ${w.secondStageReferences} EPT` : ''})`),
  ];
  if (w.finalSecondStage) out.push(leaf('EPT walk of the final gpa', `gpa ${hex(w.finalSecondStage.gpa)}`, { children: eptStepVariables(w.finalSecondStage) }));
  return out;
}

/** The walk the hardware (or, in shadow mode, the VMM) made last for this vCPU, and the fault it raised if any. */
export function lastWalkOf(v: InspectedVm, vcpu: number): { walk: WalkRecord | null; faulted: boolean } {
  const port = v.vm.mmus[vcpu];
  if (port instanceof ShadowMmu) return { walk: port.fault?.walk ?? port.lastWalk, faulted: port.fault !== null };
  const mmu = port instanceof ParavirtMmuPort ? port.mmu : port instanceof Mmu ? port : null;
  if (!mmu) return { walk: null, faulted: false };
  return { walk: mmu.lastWalk, faulted: mmu.fault !== null && mmu.fault.walk === mmu.lastWalk };
}

export function translationScope(v: InspectedVm, vcpu: number): InspectVariable[] {
  const { walk, faulted } = lastWalkOf(v, vcpu);
  if (!walk) return [leaf('(no walk yet)', 'no TLB miss has been walked on this vCPU')];
  return [leaf('source', faulted ? 'the last faulting walk' : 'the last walk (TLB miss)'), ...walkRecordVariables(v, vcpu, walk)];
}

export function controlsScope(v: InspectedVm): InspectVariable[] {
  const c = v.monitor?.controls;
  if (!c) return [leaf('(native mode)', 'no hypervisor: no execution controls')];
  return Object.entries(c).map(([k, x]) => leaf(k, typeof x === 'number' && k !== 'vpid' ? hex(x) : String(x)));
}

/** Every scope of a stopped vCPU (Last VM exit and Execution controls only under a hypervisor). */
export function scopesFor(_t: InspectTarget, v: InspectedVm, vcpu: number): InspectScope[] {
  const out: InspectScope[] = [
    { name: 'Registers', variables: registersScope(v, vcpu), expensive: false },
    { name: 'Control registers', variables: controlRegistersScope(v, vcpu), expensive: false },
  ];
  if (v.monitor) out.push({ name: 'Last VM exit', variables: lastExitScope(v), expensive: false });
  out.push({ name: 'Translation', variables: translationScope(v, vcpu), expensive: false });
  if (v.monitor) out.push({ name: 'Execution controls', variables: controlsScope(v), expensive: false });
  return out;
}
