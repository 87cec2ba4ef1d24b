// Why a panel needs one: in a browser (code-server, VS Code for the web) every webview's page
// loads its script through VS Code's resource service worker, and when several webviews are
// restored at once after a page reload they re-register that worker under one scope; a page
// that loads while the worker is being replaced is left uncontrolled, its script request goes
// to the network (net::ERR_NAME_NOT_RESOLVED for *.vscode-resource.vscode-cdn.net) and the
// panel stays blank — no script, so no `ready`, and nothing the host posts is ever drawn.
// The watchdog notices the missing `ready` and has the page loaded again (by then the worker
// has settled); after a few tries it gives up and the host shows a page that says so.
// Pure (timers injected) so the policy is unit-tested in node.

export interface WatchdogTimers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface WatchdogHooks {
  /** Load the page again (a fresh nonce makes it a new document). `attempt` counts from 1. */
  reload(attempt: number): void;
  /** Every reload went unanswered: show what failed instead of a blank panel. */
  giveUp(): void;
}

/** How long to wait for `ready` after each load: the first, then after each reload. */
export const READY_DEADLINES_MS: readonly number[] = [4000, 6000, 8000, 12000];

const realTimers: WatchdogTimers = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class LoadWatchdog {
  private handle: unknown;
  private attempt = 0;
  private disposed = false;

  constructor(
    private readonly hooks: WatchdogHooks,
    private readonly deadlines: readonly number[] = READY_DEADLINES_MS,
    private readonly timers: WatchdogTimers = realTimers,
  ) {}

  /** A page is loading (html set, or a hidden panel shown again): expect `ready` from it. */
  expect(): void {
    if (this.disposed) return;
    this.cancel();
    this.attempt = 0;
    this.arm();
  }

  /** The page's script runs: nothing to do until the next load. */
  ready(): void {
    this.cancel();
    this.attempt = 0;
  }

  /** The page went away (panel hidden: VS Code tears the webview down) — no `ready` can come. */
  cancel(): void {
    if (this.handle !== undefined) this.timers.clear(this.handle);
    this.handle = undefined;
  }

  get waiting(): boolean {
    return this.handle !== undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.cancel();
  }

  private arm(): void {
    const ms = this.deadlines[this.attempt];
    this.handle = this.timers.set(() => this.expired(), ms);
  }

  private expired(): void {
    this.handle = undefined;
    if (this.disposed) return;
    this.attempt++;
    if (this.attempt >= this.deadlines.length) {
      this.hooks.giveUp();
      return;
    }
    this.hooks.reload(this.attempt);
    this.arm();
  }
}
