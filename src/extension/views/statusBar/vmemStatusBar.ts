// The status bar item: shown while a vmem session is active; the selected vCPU, its memory and
// paging modes and its VM's exit count, refreshed at each stop, selection and (throttled)
// statistics event while running. Click: the Address Translation panel.
import * as vscode from 'vscode';
import type { StatisticsWire } from '../../../debugAdapter/viewsProtocol';
import type { StopState, VmemSessions } from '../../session';
import { statusText } from './statusText';

export const STATUS_COMMAND = 'vmem.showAddressTranslation';

export class VmemStatusBar implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  private place: { vm: number; vcpu: number } | undefined;
  private paging: string | undefined;
  private statistics: StatisticsWire | undefined;
  private running = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly sessions: VmemSessions) {
    this.item = vscode.window.createStatusBarItem('vmem.status', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'VMem vCPU';
    this.item.command = { command: STATUS_COMMAND, title: 'Show Address Translation', arguments: [] };
    this.disposables.push(
      this.item,
      sessions.onDidStop((s) => this.onState(s)),
      sessions.onDidChangeSelection((s) => this.onState(s)),
      sessions.onDidResume(() => {
        this.running = true;
        this.render();
      }),
      sessions.onDidReceiveStatistics((s) => {
        this.statistics = s;
        this.render();
      }),
      sessions.onDidEnd(() => {
        this.place = undefined;
        this.statistics = undefined;
        this.paging = undefined;
        this.item.hide();
      }),
    );
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }

  private onState(s: StopState): void {
    const moved = !this.place || this.place.vm !== s.vm || this.place.vcpu !== s.vcpu;
    this.place = { vm: s.vm, vcpu: s.vcpu };
    this.running = false;
    if (moved) this.paging = undefined;
    this.statistics = this.sessions.statistics ?? this.statistics;
    this.render();
    void this.readPaging(s);
  }

  /** The guest paging mode of the selected vCPU: its guest root's format, or none when paging is off. */
  private async readPaging(s: StopState): Promise<void> {
    try {
      // Shared with the Page Tables view; the statistics as the stop's vmem/statistics event gave them, else asked.
      const told = this.sessions.statistics;
      const [roots, stats] = await Promise.all([this.sessions.shared('vmem/tableRoots', {}), told ? Promise.resolve(told) : this.sessions.shared('vmem/statistics', {})]);
      const now = this.sessions.state;
      if (!now || now.stopCount !== s.stopCount || now.vm !== s.vm || now.vcpu !== s.vcpu) return;
      this.paging = roots.find((r) => r.kind === 'guest' && r.vm === s.vm && r.vcpu === s.vcpu)?.paging ?? 'none';
      this.statistics = stats;
      this.render();
    } catch {
      // The session moved on or ended: the next stop renders again.
    }
  }

  private render(): void {
    if (!this.sessions.session || (!this.place && !this.statistics)) {
      this.item.hide();
      return;
    }
    // Before the first stop only the statistics are known: name the first VM, no vCPU.
    const place = this.place ?? { vm: this.statistics?.vms[0]?.vm ?? 1, vcpu: undefined };
    const t = statusText({ ...place, paging: this.paging, statistics: this.statistics, running: this.running || !this.place });
    this.item.text = t.text;
    const md = new vscode.MarkdownString(t.tooltip, true);
    md.isTrusted = false;
    this.item.tooltip = md;
    this.item.accessibilityInformation = { label: t.text.replace(/\$\([^)]*\)\s*/g, ''), role: 'button' };
    this.item.show();
  }
}
