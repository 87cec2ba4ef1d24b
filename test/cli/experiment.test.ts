// `vmem experiment`: the JSON table parses and says what it measured; bad usage exits 2.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const CLI = join(ROOT, 'dist/cli.js');

function vmem(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('vmem experiment', () => {
  it('experiment a --json --small: one table with columns, rows and the expected shape', () => {
    const r = vmem('experiment', 'a', '--json', '--small');
    assert.equal(r.code, 0, r.err);
    const t = JSON.parse(r.out);
    assert.equal(t.id, 'a');
    assert.match(t.title, /Fig\. 4/);
    assert.ok(t.columns.some((c: { key: string }) => c.key === 'savedPct'));
    assert.deepEqual(t.rows.map((row: { vms: number }) => row.vms), [1, 2, 4]);
    assert.equal(typeof t.rows[0].savedPct, 'number');
    assert.equal(typeof t.expected, 'string');
    assert.deepEqual(t.auditViolations, []);
  });

  it('bad usage: exit 2 with the usage line', () => {
    const r = vmem('experiment', 'z');
    assert.equal(r.code, 2);
    assert.match(r.err, /experiment a\|b\|c\|d\|all/);
    assert.match(vmem('help').out, /vmem experiment a\|b\|c\|d\|all/);
  });
});
