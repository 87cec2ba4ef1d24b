// The adapter's real payloads (shadow mode stopped at a hidden fault; nested mode at an EPT
// violation), recorded from `node dist/debugAdapter.js` on examples/two-processes.s. The webview
// models' tests read the same recordings: one copy, test/webview/fixtures/adapter-<mode>.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventsWire, StatisticsWire, TableRootWire, TablePayloadWire, TlbWire, TranslationWire } from '../../../src/debugAdapter/viewsProtocol';

export interface Fixture {
  exc: unknown;
  roots: TableRootWire[];
  entries: TablePayloadWire;
  walk: TranslationWire;
  tlb: TlbWire;
  events: EventsWire;
  stats: StatisticsWire;
}

export function fixture(name: 'shadow' | 'nested'): Fixture {
  // Compiled tests run from out/test/...; the JSON stays beside the sources.
  const path = join(__dirname, '..', '..', '..', '..', 'test', 'webview', 'fixtures', `adapter-${name}.json`);
  return JSON.parse(readFileSync(path, 'utf8')) as Fixture;
}
