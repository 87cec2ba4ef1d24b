// The panel hosts' vscode-free parts: the HTML shell's CSP, the answer history behind the changed
// marks, the event accumulator's time-travel handling, the memory dump.
import * as assert from 'node:assert/strict';
import { contentSecurityPolicy, scriptFailedHtml, webviewHtml } from '../../src/extension/webviews/html';
import { LoadWatchdog } from '../../src/extension/webviews/loadWatchdog';
import { AnswerHistory } from '../../src/extension/webviews/answerHistory';
import { EventAccumulator } from '../../src/extension/webviews/eventAccumulator';
import { hexDump, referenceAddress } from '../../src/extension/webviews/hexDump';
import type { EventsWire, LoggedEventWire } from '../../src/debugAdapter/viewsProtocol';

const ev = (seq: number): LoggedEventWire => ({ seq, vm: 1, event: { kind: 'halt', icount: seq * 10, vcpu: 0, rip: '0x0' } });
const body = (total: number, seqs: number[]): EventsWire => ({ total, capacity: 1000, counts: {}, events: seqs.map(ev) });

describe('webview hosts', () => {
  it('serves a page whose only script carries the nonce, under a strict CSP', () => {
    const html = webviewHtml({ title: 'T"<', cspSource: 'https://x.vscode-cdn.net', nonce: 'abc', scriptUri: 'https://x/a.js', styleUris: ['https://x/a.css'] });
    assert.equal(contentSecurityPolicy('S', 'N'), "default-src 'none'; script-src 'nonce-N'; style-src S; font-src S; img-src S data:");
    assert.match(html, /<script nonce="abc" src="https:\/\/x\/a.js"><\/script>/);
    assert.equal((html.match(/<script/g) ?? []).length, 1);
    assert.doesNotMatch(html, /\s(style|on\w+)=/);
    assert.match(html, /<title>T&quot;&lt;<\/title>/);
    assert.match(html, /<p id="vmem-boot" class="placeholder">Loading T&quot;&lt;…<\/p>\s*<script/, 'a page whose script never runs is not blank');
  });

  it('falls back to a text-only page that loads nothing', () => {
    const html = scriptFailedHtml('Address <Translation>');
    assert.doesNotMatch(html, /<script|<link|\s(style|on\w+)=/);
    assert.match(html, /content="default-src 'none'"/);
    assert.match(html, /<h1>Address &lt;Translation&gt; could not load<\/h1>/);
    assert.match(html, /Developer: Reload Webviews/);
  });

  // The load watchdog: a virtual clock; each row is what happens, and what the hooks saw.
  const watchdogCases: { name: string; steps: ('expect' | 'ready' | 'cancel' | number)[]; reloads: number[]; gaveUp: boolean; waiting: boolean }[] = [
    { name: 'ready in time: nothing', steps: ['expect', 3000, 'ready', 60_000], reloads: [], gaveUp: false, waiting: false },
    { name: 'no ready: reloads after 4 s, then 6 s, 8 s, then gives up after 12 s more', steps: ['expect', 3999, 1, 5999, 1, 8000, 12_000], reloads: [1, 2, 3], gaveUp: true, waiting: false },
    { name: 'ready after the first reload stops the retries', steps: ['expect', 4000, 1000, 'ready', 60_000], reloads: [1], gaveUp: false, waiting: false },
    { name: 'hidden (torn down) while waiting: no reload', steps: ['expect', 2000, 'cancel', 60_000], reloads: [], gaveUp: false, waiting: false },
    { name: 'shown again starts over from the first deadline', steps: ['expect', 4000, 'cancel', 'expect', 3999], reloads: [1], gaveUp: false, waiting: true },
  ];
  for (const c of watchdogCases) {
    it(`load watchdog: ${c.name}`, () => {
      let now = 0;
      const timers: { at: number; fn: () => void; id: number }[] = [];
      let ids = 0;
      const reloads: number[] = [];
      let gaveUp = false;
      const dog = new LoadWatchdog({ reload: (n) => reloads.push(n), giveUp: () => (gaveUp = true) }, undefined, {
        set: (fn, ms) => { timers.push({ at: now + ms, fn, id: ++ids }); return ids; },
        clear: (id) => { const i = timers.findIndex((t) => t.id === id); if (i >= 0) timers.splice(i, 1); },
      });
      for (const step of c.steps) {
        if (step === 'expect') dog.expect();
        else if (step === 'ready') dog.ready();
        else if (step === 'cancel') dog.cancel();
        else {
          const until = now + step;
          for (let due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0]; due; due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0]) {
            timers.splice(timers.indexOf(due), 1);
            now = due.at;
            due.fn();
          }
          now = until;
        }
      }
      assert.deepEqual(reloads, c.reloads);
      assert.equal(gaveUp, c.gaveUp);
      assert.equal(dog.waiting, c.waiting);
    });
  }

  it('keeps the previous stop\'s answer as the baseline, also when asked again at the same stop', () => {
    const h = new AnswerHistory<string>(2);
    assert.equal(h.record('a', 1, 'a1'), undefined);
    assert.deepEqual(h.record('a', 2, 'a2'), { stopCount: 1, value: 'a1' });
    assert.deepEqual(h.record('a', 2, 'a2 again'), { stopCount: 1, value: 'a1' });
    assert.deepEqual(h.record('a', 3, 'a3'), { stopCount: 2, value: 'a2 again' });
    assert.equal(h.record('a', 1, 'new session'), undefined, 'counts going backwards start over');
    h.record('b', 1, 'b');
    h.record('c', 1, 'c');
    assert.equal(h.record('a', 5, 'a5'), undefined, 'the oldest key was forgotten (capacity 2)');
  });

  it('accumulates polls, drops duplicates, and forgets the undone future after time travel', () => {
    const acc = new EventAccumulator();
    assert.equal(acc.lastSeq, -1);
    assert.deepEqual(acc.add(body(3, [0, 1, 2])).fresh.map((e) => e.seq), [0, 1, 2]);
    assert.deepEqual(acc.add(body(5, [2, 3, 4])).fresh.map((e) => e.seq), [3, 4]);
    const back = acc.add(body(3, []));
    assert.equal(back.reset, true);
    assert.deepEqual(acc.all().map((e) => e.seq), [0, 1, 2]);
    assert.equal(acc.lastSeq, 2);
  });

  it('dumps memory as hex and printable ASCII only', () => {
    assert.equal(referenceAddress('gpa:1:0x102000'), 0x102000n);
    const bytes = Uint8Array.from([0x48, 0x69, 0x00, 0x1b, 0x7f, ...Array(11).fill(0x41), 0xff]);
    const lines = hexDump(0x1000n, bytes, 4).split('\n');
    assert.equal(lines[0], '00001000  48 69 00 1b 7f 41 41 41  41 41 41 41 41 41 41 41  |Hi...AAAAAAAAAAA|');
    assert.match(lines[1], /^00001010  ff +\|\.\|$/);
    assert.equal(lines[1].indexOf('|'), lines[0].indexOf('|'), 'the ASCII column lines up');
    assert.equal(lines[2], '(4 bytes beyond this are unreadable)');
  });
});
