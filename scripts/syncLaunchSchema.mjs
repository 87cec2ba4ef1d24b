// One launch schema: copies schemas/launch.schema.json (minus $schema and title) into
// package.json's contributes.debuggers[0].configurationAttributes.launch, so VS Code's
// IntelliSense for launch.json and the schema the docs point at cannot disagree.
// Only the text of that one object is replaced (2-space JSON, indented where it sits): the rest
// of package.json keeps its bytes. `--check` changes nothing and exits 1 when they differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packagePath = join(root, 'package.json');
const schemaPath = join(root, 'schemas/launch.schema.json');

/** The schema as package.json carries it. */
export function launchAttributes(schema) {
  const { $schema: _s, title: _t, ...rest } = schema;
  return rest;
}

/** [start, end) of the JSON value that follows `"key":` at or after `from` (strings and nesting respected). */
function valueRange(text, key, from) {
  const at = text.indexOf(`"${key}"`, from);
  if (at < 0) throw new Error(`package.json: no "${key}" after offset ${from}`);
  let i = text.indexOf(':', at) + 1;
  while (/\s/.test(text[i])) i++;
  const start = i;
  let depth = 0;
  let inString = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return [start, i + 1];
    }
  }
  throw new Error(`package.json: unterminated value of "${key}"`);
}

/** package.json's text with the launch attributes replaced by the schema's. */
export function synced(packageText, schema) {
  const debuggers = valueRange(packageText, 'debuggers', 0);
  const attributes = valueRange(packageText, 'configurationAttributes', debuggers[0]);
  const [start, end] = valueRange(packageText, 'launch', attributes[0]);
  const lineStart = packageText.lastIndexOf('\n', start) + 1;
  const indent = /^\s*/.exec(packageText.slice(lineStart, start))[0];
  const body = JSON.stringify(launchAttributes(schema), null, 2).split('\n').join('\n' + indent);
  const out = packageText.slice(0, start) + body + packageText.slice(end);
  const check = JSON.parse(out).contributes.debuggers[0].configurationAttributes.launch;
  if (!isDeepStrictEqual(check, launchAttributes(schema))) throw new Error('package.json: the launch attributes did not land where expected');
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = readFileSync(packagePath, 'utf8');
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
  const out = synced(text, schema);
  if (process.argv.includes('--check')) {
    if (out !== text) {
      console.error('package.json configurationAttributes.launch differs from schemas/launch.schema.json: run node scripts/syncLaunchSchema.mjs');
      process.exit(1);
    }
    console.log('launch schema: in sync');
  } else if (out !== text) {
    writeFileSync(packagePath, out);
    console.log('package.json: configurationAttributes.launch updated from schemas/launch.schema.json');
  } else console.log('launch schema: already in sync');
}
