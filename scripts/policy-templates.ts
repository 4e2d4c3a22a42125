/**
 * `npm run policy:templates [out-dir]`: writes the IT policy templates generated from
 * main/policy/schema.ts (main/policy/templates/) to resources/policy-templates/, or to out-dir.
 * Fails, writing nothing, when a schema field has no description.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TEMPLATES_DIR, renderPolicyTemplates } from '../main/policy/templates/index';

let files: Map<string, string>;
try {
  files = renderPolicyTemplates();
} catch (err) {
  console.error(`policy:templates: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
const out = process.argv[2] ?? TEMPLATES_DIR;
for (const [path, text] of files) {
  const target = join(out, ...path.split('/'));
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  console.log(target);
}
