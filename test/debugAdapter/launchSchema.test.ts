// One launch schema: package.json's launch attributes are schemas/launch.schema.json's (what
// scripts/syncLaunchSchema.mjs copies), every attribute is described (IntelliSense shows it),
// and the schema lists exactly the keys the adapter accepts.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAUNCH_KEYS } from '../../src/debugAdapter/runtime/launchConfig';
import { ROOT } from './adapterHarness';

interface Schema {
  $schema?: string;
  title?: string;
  properties: Record<string, { description?: string }>;
  [k: string]: unknown;
}

const schema = JSON.parse(readFileSync(join(ROOT, 'schemas/launch.schema.json'), 'utf8')) as Schema;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { contributes: { debuggers: { type: string; configurationAttributes: { launch: unknown } }[] } };

describe('launch schema', () => {
  it("package.json's launch attributes equal the schema (minus $schema and title)", () => {
    const { $schema: _s, title: _t, ...attributes } = schema;
    const vmem = pkg.contributes.debuggers.find((d) => d.type === 'vmem')!;
    assert.deepEqual(vmem.configurationAttributes.launch, attributes, 'run node scripts/syncLaunchSchema.mjs');
  });

  it('the sync script agrees (--check exits 0)', () => {
    execFileSync(process.execPath, [join(ROOT, 'scripts/syncLaunchSchema.mjs'), '--check'], { stdio: 'pipe' });
  });

  it('every attribute has a description', () => {
    const bare = Object.entries(schema.properties).filter(([, p]) => !p.description || p.description.trim().length < 10).map(([k]) => k);
    assert.deepEqual(bare, []);
  });

  it('lists exactly the keys the adapter accepts (and cwd)', () => {
    assert.deepEqual(Object.keys(schema.properties).sort(), [...LAUNCH_KEYS, 'cwd'].sort());
  });

  it('the sync replaces only the launch object, byte for byte elsewhere', async () => {
    const { synced } = (await import(join(ROOT, 'scripts/syncLaunchSchema.mjs'))) as { synced: (text: string, schema: unknown) => string };
    const text = readFileSync(join(ROOT, 'package.json'), 'utf8');
    const changed = { ...schema, properties: { ...schema.properties, program: { ...schema.properties.program, description: 'changed' } } };
    const out = synced(text, changed);
    const diff = out.split('\n').filter((l, i) => l !== text.split('\n')[i]);
    assert.equal(out.split('\n').length, text.split('\n').length);
    assert.deepEqual(diff.map((l) => l.trim()), ['"description": "changed"']);
  });
});
