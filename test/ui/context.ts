// The hand-off between scripts/ui/runUiTests.mjs (which starts code-server with the packaged
// .vsix installed and a headless Chromium) and the UI suites it runs with mocha in the same
// process. The suites never start servers or browsers themselves.
import type { Page } from '../../tools/ui/node_modules/playwright-core';

export interface UiContext {
  page: Page;
  /** http://127.0.0.1:PORT of the code-server under test. */
  serverUrl: string;
  /** A throw-away copy of examples/ on the server's disk (tests may write into it). */
  workspace: string;
  /** Where screenshots go: test-results/ui/. */
  results: string;
}

let current: UiContext | undefined;

export function setUiContext(c: UiContext): void {
  current = c;
}

export function uiContext(): UiContext {
  if (!current) throw new Error('UI suites run inside scripts/ui/runUiTests.mjs (npm run test:ui), not under plain mocha');
  return current;
}
