// Loads a webview's bundle (dist/webview/<name>.js) in headless Chromium inside the very HTML
// shell and CSP the extension serves (src/extension/webviews/html.ts), from a loopback HTTP
// server standing in for the webview resource origin. A stub acquireVsCodeApi records what the
// page posts; tests post host messages with window.postMessage, as VS Code does.
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { webviewHtml } from '../../src/extension/webviews/html';

export const ROOT = path.resolve(__dirname, '../../..');
export const RESULTS = path.join(ROOT, 'test-results', 'webview');

export type ViewName = 'translation' | 'memory' | 'timeline' | 'overcommit';
export type Theme = 'light' | 'dark' | 'hc';

// The slice of playwright-core's API these tests use (it ships in tools/ui, untyped here).
export interface Locator {
  textContent(): Promise<string | null>;
  innerText(): Promise<string>;
  count(): Promise<number>;
  first(): Locator;
  nth(i: number): Locator;
  click(opts?: { position?: { x: number; y: number } }): Promise<void>;
  hover(opts?: { position?: { x: number; y: number } }): Promise<void>;
  fill(v: string): Promise<void>;
  press(key: string): Promise<void>;
  focus(): Promise<void>;
  getAttribute(name: string): Promise<string | null>;
  boundingBox(): Promise<{ x: number; y: number; width: number; height: number } | null>;
  locator(selector: string): Locator;
}
export interface Page {
  goto(url: string): Promise<unknown>;
  /** A JavaScript expression evaluated in the page (strings: this file compiles without the DOM library). */
  evaluate<R>(expression: string): Promise<R>;
  locator(selector: string): Locator;
  keyboard: { press(key: string): Promise<void> };
  mouse: { move(x: number, y: number): Promise<void> };
  screenshot(opts: { path: string; fullPage?: boolean }): Promise<unknown>;
  on(event: 'console', cb: (m: { type(): string; text(): string }) => void): void;
  on(event: 'pageerror', cb: (e: Error) => void): void;
  setViewportSize(s: { width: number; height: number }): Promise<void>;
  close(): Promise<void>;
}
interface Browser {
  newPage(opts?: { viewport?: { width: number; height: number }; deviceScaleFactor?: number }): Promise<Page>;
  close(): Promise<void>;
}
interface Playwright {
  chromium: { launch(opts: { executablePath: string; headless: boolean; args: string[] }): Promise<Browser> };
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.map': 'application/json', '.svg': 'image/svg+xml' };
const SERVED = ['dist/webview/', 'media/', 'test/webview/static/'];

export interface OpenedView {
  page: Page;
  /** Host → webview, as VS Code's postMessage delivers it. */
  post(message: unknown): Promise<void>;
  /** Webview → host: every intent posted so far. */
  sent(): Promise<{ type: string; [k: string]: unknown }[]>;
  state(): Promise<unknown>;
  /** CSP violations (securitypolicyviolation events and console reports) and page errors. */
  problems(): Promise<string[]>;
  /** An attribute (or, with 'text', the text) of every element matching `selector`. */
  all(selector: string, attr: string): Promise<(string | null)[]>;
  /** The focused element: its id, data-* attributes and tabindex. */
  active(): Promise<{ id: string; tag: string; tabindex: string | null; data: Record<string, string> }>;
  /** Polls `expression` in the page until it is truthy (from outside: the page's CSP forbids eval). */
  waitFor(expression: string, timeoutMs?: number): Promise<void>;
  /** Sets a form control's value (a select) and fires change. */
  setValue(selector: string, value: string): Promise<void>;
}

export class Harness {
  private constructor(private readonly server: http.Server, private readonly browser: Browser, readonly origin: string) {}

  static async start(): Promise<Harness> {
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const view = /^\/view\/(translation|memory|timeline|overcommit)\.html$/.exec(url.pathname);
      // ?script=missing: the bundle's URL answers 404, as when the webview's resource loader fails.
      const missing = url.searchParams.get('script') === 'missing';
      if (view) {
        const origin = `http://${req.headers.host}`;
        const nonce = randomBytes(16).toString('base64');
        const theme = url.searchParams.get('theme') ?? 'dark';
        const html = webviewHtml({
          title: view[1], cspSource: origin, nonce,
          scriptUri: missing ? `${origin}/dist/webview/missing-${view[1]}.js` : `${origin}/dist/webview/${view[1]}.js`,
          styleUris: [`${origin}/dist/webview/codicon.css`, `${origin}/media/webview/common.css`, `${origin}/media/webview/${view[1]}.css`, `${origin}/test/webview/static/theme-${theme}.css`],
        }).replace(`<script nonce="${nonce}"`, `<script nonce="${nonce}" src="${origin}/test/webview/static/stub.js"></script>\n  <script nonce="${nonce}"`);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(html);
        return;
      }
      if (url.pathname === '/favicon.ico') {
        res.writeHead(204);
        res.end();
        return;
      }
      const rel = decodeURIComponent(url.pathname).replace(/^\/+/, '');
      const file = path.join(ROOT, rel);
      if (!SERVED.some((p) => rel.startsWith(p)) || !file.startsWith(ROOT) || !fs.existsSync(file)) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      fs.createReadStream(file).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pw = require(path.join(ROOT, 'tools/ui/node_modules/playwright-core')) as Playwright;
    const browser = await pw.chromium.launch({
      // The variable scripts/ui/codeServer.mjs reads: one override for every suite that drives Chromium.
      executablePath: process.env.VMEM_CHROMIUM ?? '/usr/bin/chromium', headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    return new Harness(server, browser, `http://127.0.0.1:${port}`);
  }

  /** `restoredState`: the page starts as a panel restored with that getState() (after a reload or re-show). */
  async open(view: ViewName, theme: Theme = 'dark', viewport = { width: 1280, height: 800 }, restoredState?: unknown): Promise<OpenedView> {
    const page = await this.browser.newPage({ viewport, deviceScaleFactor: 1 });
    const consoleProblems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy|Refused to/i.test(m.text())) consoleProblems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => consoleProblems.push(`page error: ${e.message}`));
    const restored = restoredState === undefined ? '' : `&state=${encodeURIComponent(JSON.stringify(restoredState))}`;
    await page.goto(`${this.origin}/view/${view}.html?theme=${theme}${restored}`);
    // The bundle says `ready` once its listeners are in place.
    const waitFor = async (expression: string, timeoutMs = 10_000): Promise<void> => {
      const end = Date.now() + timeoutMs;
      while (!(await page.evaluate<unknown>(expression))) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${expression}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await waitFor("window.__sent.some((m) => m.type === 'ready')");
    return {
      waitFor,
      page,
      post: async (message) => {
        await page.evaluate(`window.postMessage(${JSON.stringify(message)}, '*')`);
        // Let the message event and the layout it causes run.
        await page.evaluate('new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))');
      },
      sent: () => page.evaluate('window.__sent'),
      state: () => page.evaluate('window.__state'),
      problems: async () => consoleProblems.concat(await page.evaluate<string[]>('window.__csp')),
      all: (selector, attr) => page.evaluate(`Array.from(document.querySelectorAll(${JSON.stringify(selector)}), (e) => ${attr === 'text' ? 'e.textContent' : `e.getAttribute(${JSON.stringify(attr)})`})`),
      active: () => page.evaluate(`(() => { const a = document.activeElement; return { id: a.id, tag: a.tagName.toLowerCase(), tabindex: a.getAttribute('tabindex'), data: { ...a.dataset } }; })()`),
      setValue: async (selector, value) => {
        await page.evaluate(`(() => { const e = document.querySelector(${JSON.stringify(selector)}); e.value = ${JSON.stringify(value)}; e.dispatchEvent(new Event('change', { bubbles: true })); })()`);
      },
    };
  }

  /** A page whose bundle fails to load (nothing ever says `ready`): what the shell alone shows. */
  async openWithoutScript(view: ViewName): Promise<Page> {
    const page = await this.browser.newPage({ viewport: { width: 800, height: 400 }, deviceScaleFactor: 1 });
    await page.goto(`${this.origin}/view/${view}.html?theme=dark&script=missing`);
    return page;
  }

  async screenshot(view: OpenedView, name: string): Promise<string> {
    fs.mkdirSync(RESULTS, { recursive: true });
    const file = path.join(RESULTS, `${name}.png`);
    await view.page.screenshot({ path: file, fullPage: true });
    return file;
  }

  async stop(): Promise<void> {
    await this.browser.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface SuiteViews {
  /** Opens a page, as Harness.open does; the hooks check and close it after the test. */
  open: Harness['open'];
  /** A page whose bundle 404s (closed after the test; its load error is the point, not a problem). */
  openWithoutScript: Harness['openWithoutScript'];
  screenshot: Harness['screenshot'];
  /** The first match's rendered text in the last opened page, white space folded. */
  text(selector: string): Promise<string>;
}

/**
 * The hooks every browser describe needs, so each checks the same: one Chromium for the suite,
 * and after each test a screenshot if it failed (`failedPrefix` + title), no CSP violation or
 * page error, and the page closed. Call inside describe().
 */
export function browserSuite(failedPrefix: string): SuiteViews {
  let harness: Harness | undefined;
  let view: OpenedView | undefined;
  let scriptless: Page | undefined;
  before(async () => {
    harness = await Harness.start();
  });
  after(async () => harness?.stop());
  afterEach(async function () {
    await scriptless?.close();
    scriptless = undefined;
    if (!view) return;
    const opened = view;
    view = undefined; // a later test that fails before it opens a page must not re-check this one
    if (this.currentTest?.state === 'failed') await harness!.screenshot(opened, `${failedPrefix}${this.currentTest.title.replace(/\W+/g, '-')}`);
    assert.deepEqual(await opened.problems(), [], 'no CSP violations or page errors');
    await opened.page.close();
  });
  return {
    open: async (...args) => (view = await harness!.open(...args)),
    openWithoutScript: async (name) => (scriptless = await harness!.openWithoutScript(name)),
    screenshot: (opened, name) => harness!.screenshot(opened, name),
    text: async (selector) => (await view!.page.locator(selector).first().innerText()).replace(/\s+/g, ' ').trim(),
  };
}

/** A fixture from test/webview/fixtures (real adapter payloads; see generate.js there). */
export function fixture<T>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'test/webview/fixtures', name), 'utf8')) as T;
}
