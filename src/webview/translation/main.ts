// The Address Translation webview: a gva's guest walk, EPT 2-D grid, shadow walk and TLB entry
// side by side, the cells that changed since the previous stop marked.
import { hasType, parseGva } from '../shared/messages';
import type {
  TranslationErrorMessage, TranslationHostMessage, TranslationIntent, TranslationMessage, TranslationQuery, TranslationViewState, PhaseMessage,
} from '../shared/messages';
import { hostChannel } from '../shared/vscodeApi';
import { h, icon, mount, replace } from '../shared/dom';
import { rovingGrid } from '../shared/roving';
import { clearBanner, noSessionPlaceholder, showRunning, waitingPlaceholder } from '../shared/status';
import { changedKeys, translationModel } from './model';
import type { TranslationModel } from './model';
import { chainEl, eptColumn, guestColumn, shadowColumnEl, tlbColumnEl } from './view';
import type { RenderContext } from './view';
import type { WalkAccess } from '../../engine/mmu/walkRecord';

const host = hostChannel<TranslationIntent, TranslationViewState>();
let state: TranslationViewState = host.getState() ?? {};

const gvaInput = h('input', { id: 'gva', type: 'text', class: 'gva-input', spellcheck: 'false', autocomplete: 'off', placeholder: '0x400000', 'aria-label': 'Guest virtual address' });
const accessSelect = h('select', { id: 'access', 'aria-label': 'Access type' },
  h('option', { value: 'read' }, 'read'), h('option', { value: 'write' }, 'write'), h('option', { value: 'fetch' }, 'fetch'));
const userBox = h('input', { id: 'user', type: 'checkbox', 'aria-label': 'User-mode access (CPL 3)' });
const translateBtn = h('button', { type: 'submit', class: 'primary', title: 'Translate this address' }, icon('arrow-right'), ' Translate');
const followBtn = h('button', { type: 'button', id: 'follow', title: 'Follow the stop: show the current fault or last access', 'aria-pressed': 'false' }, icon('target'), ' Follow stop');
const form = h('form', { class: 'toolbar', 'aria-label': 'Address to translate' },
  h('label', { for: 'gva' }, 'gva'), gvaInput, accessSelect, h('label', { class: 'check' }, userBox, ' user'), translateBtn, followBtn);
const inputError = h('p', { class: 'input-error', role: 'alert' });
const stopInfo = h('p', { class: 'stop-info' });
const banner = h('div', { class: 'banner', role: 'status', 'aria-live': 'polite' });
const content = h('main', { class: 'content', 'aria-live': 'off' });
mount(h('header', {}, form, inputError, stopInfo), banner, content);

if (state.query) showQuery(state.query);

function showWaiting(): void {
  replace(content, h('div', { class: 'placeholder' }, ...waitingPlaceholder()));
}

function showQuery(q: TranslationQuery): void {
  gvaInput.value = q.gva;
  accessSelect.value = q.access;
  userBox.checked = q.user;
}

function currentOptions(): { access: WalkAccess; user: boolean } {
  return { access: accessSelect.value as WalkAccess, user: userBox.checked };
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const gva = parseGva(gvaInput.value);
  if (!gva) {
    inputError.textContent = `"${gvaInput.value}" is not an address: type hex (0x400000) or decimal`;
    gvaInput.setAttribute('aria-invalid', 'true');
    return;
  }
  inputError.textContent = '';
  gvaInput.removeAttribute('aria-invalid');
  host.post({ type: 'translate', query: { gva, ...currentOptions() } });
});
followBtn.addEventListener('click', () => host.post({ type: 'followFocus', ...currentOptions() }));

/** The last translation shown: the fallback baseline for the changed marks. */
let last: { msg: TranslationMessage; model: TranslationModel } | undefined;

function sameQuery(a: TranslationMessage, b: TranslationMessage): boolean {
  return a.query.gva === b.query.gva && a.query.access === b.query.access && a.query.user === b.query.user && a.stop.vm === b.stop.vm && a.stop.vcpu === b.stop.vcpu;
}

/** True while the picture on screen is the one saved before a reload, not an answer of this page's host. */
let restoredOnly = false;

function renderTranslation(msg: TranslationMessage): void {
  // A picture restored from before a reload may be another session's: never a baseline for marks.
  const baseline = restoredOnly ? undefined : last;
  restoredOnly = false;
  const model = translationModel(msg.walk, msg.tlbTag);
  let ctx: RenderContext = { changed: new Set() };
  if (msg.previous) {
    ctx = { changed: changedKeys(translationModel(msg.previous.walk, msg.previous.tlbTag), model), sinceStop: msg.previous.stopCount };
  } else if (baseline && sameQuery(baseline.msg, msg) && baseline.msg.stop.stopCount < msg.stop.stopCount) {
    ctx = { changed: changedKeys(baseline.model, model), sinceStop: baseline.msg.stop.stopCount };
  } else if (baseline && sameQuery(baseline.msg, msg) && baseline.msg.stop.stopCount === msg.stop.stopCount && baseline.msg.previous) {
    // A re-render of the same stop (panel shown again): keep its marks.
    ctx = { changed: changedKeys(translationModel(baseline.msg.previous.walk, baseline.msg.previous.tlbTag), model), sinceStop: baseline.msg.previous.stopCount };
  }
  last = { msg, model };
  showQuery(msg.query);
  state = { query: msg.query, source: msg.source, shown: msg };
  host.setState(state);
  followBtn.setAttribute('aria-pressed', msg.source === 'focus' ? 'true' : 'false');
  followBtn.classList.toggle('active', msg.source === 'focus');
  renderStop(msg);
  clearBanner(banner);
  const changedCount = ctx.changed.size;
  const legend = ctx.sinceStop !== undefined
    ? h('p', { class: 'legend' }, h('span', { class: 'swatch changed', 'aria-hidden': 'true' }), changedCount ? ` ${changedCount} change${changedCount === 1 ? '' : 's'} since stop ${ctx.sinceStop}` : ` nothing changed since stop ${ctx.sinceStop}`)
    : null;
  const columns = h('div', { class: `columns mode-${model.mode}` },
    guestColumn(ctx, model), eptColumn(ctx, model), shadowColumnEl(ctx, model.shadow), tlbColumnEl(ctx, model.tlb));
  replace(content, chainEl(ctx, model), legend, columns);
  for (const table of Array.from(content.querySelectorAll<HTMLElement>('table.walk'))) rovingGrid(table, 'tr[data-row]', openRef);
  const grid = content.querySelector<HTMLElement>('.grid2d');
  if (grid) rovingGrid(grid, '.g-cell[data-row]', openRef);
}

function openRef(el: HTMLElement): void {
  const reference = el.dataset.ref;
  if (reference) host.post({ type: 'openMemory', reference, label: el.dataset.label ?? reference });
}

function renderStop(msg: { stop: TranslationMessage['stop'] }): void {
  const s = msg.stop;
  replace(stopInfo, icon('debug-pause'), ' ', h('strong', {}, s.thread), ` · stop ${s.stopCount}`,
    s.description ? h('span', { class: 'description' }, ' · ', s.description) : ` · ${s.reason}`);
}

function renderError(msg: TranslationErrorMessage): void {
  restoredOnly = false;
  clearBanner(banner);
  showQuery(msg.query);
  renderStop(msg);
  last = undefined;
  replace(content, h('p', { class: 'placeholder error' }, icon('error'), ' ', `Cannot translate ${msg.query.gva}: ${msg.message}`));
}

function renderPhase(msg: PhaseMessage): void {
  if (msg.phase === 'running') {
    // A picture of this session stays, dimmed: it is what the machine looked like at the previous stop.
    const keep = last !== undefined && !restoredOnly;
    showRunning(banner, ' Running… the view updates at the next stop', keep);
    if (keep) return;
    // Nothing of this session drawn yet: say so rather than dim a picture from before a reload.
    last = undefined;
    restoredOnly = false;
    stopInfo.replaceChildren();
    replace(content, h('div', { class: 'placeholder' }, icon('debug-continue'), h('p', {}, 'Running: the translation appears at the next stop')));
    return;
  }
  last = undefined;
  restoredOnly = false;
  clearBanner(banner);
  stopInfo.replaceChildren();
  if (msg.phase === 'none') {
    replace(content, h('div', { class: 'placeholder' },
      ...noSessionPlaceholder('Start debugging a guest program (F5) and stop it: this panel shows how the stop\'s address translates.')));
  } else {
    replace(content, h('p', { class: 'placeholder error' }, icon('error'), ' ', msg.message ?? 'The adapter did not answer'));
  }
}

host.onMessage((data) => {
  if (!hasType<TranslationHostMessage>(data, 'translation', 'translationError', 'phase')) return;
  if (data.type === 'translation') renderTranslation(data);
  else if (data.type === 'translationError') renderError(data);
  else renderPhase(data);
});

// A panel restored after a reload shows what it showed, at once, until the host answers.
const saved = state.shown;
if (saved && hasType<TranslationMessage>(saved, 'translation') && saved.walk && saved.stop) {
  try {
    renderTranslation(saved);
    restoredOnly = true;
    document.body.classList.add('stale');
    replace(banner, icon('history'), ` Restored: ${saved.stop.thread} at stop ${saved.stop.stopCount}, as last shown. Waiting for the debugger…`);
    banner.className = 'banner';
  } catch {
    // A state saved by another version of the panel: start empty instead.
    last = undefined;
    restoredOnly = false;
    showWaiting();
  }
} else showWaiting();

host.post({ type: 'ready' });
