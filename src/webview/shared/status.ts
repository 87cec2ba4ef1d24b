// What the three panels show between stops, in one place so they say it alike: the status
// banner ("Running…", cleared at a stop), the body's `stale` mark (CSS dims the picture of the
// last stop with it), and the placeholders of a panel with nothing to draw.

import { h, icon, replace } from './dom';
import type { Child } from './dom';

/** The "Running…" banner; `dim`: the picture on screen is the last stop's, so mark it stale. */
export function showRunning(banner: HTMLElement, text: string, dim = true): void {
  document.body.classList.toggle('stale', dim);
  replace(banner, icon('loading', 'codicon-modifier-spin'), text);
  banner.className = 'banner running';
}

/** No banner, nothing stale: what a panel shows once it has a live answer (or no session). */
export function clearBanner(banner: HTMLElement): void {
  document.body.classList.remove('stale');
  banner.replaceChildren();
  banner.className = 'banner';
}

/** Until the host's first answer: never an empty panel. */
export function waitingPlaceholder(): Child[] {
  return [icon('loading', 'codicon-modifier-spin'), h('p', {}, 'Waiting for the debugger…')];
}

/** No debug session; `hint` says what the panel will show once there is one. */
export function noSessionPlaceholder(hint: string): Child[] {
  return [icon('debug-disconnect'), h('p', {}, 'No vmem debug session'), h('p', { class: 'hint' }, hint)];
}
