/**
 * Linux (and the JSON file on every OS): the policy file with every key at its default, and a JSON
 * Schema (draft 2020-12) that editors use to check and complete it. The schema is as strict as the
 * loader at the top level (unknown keys are errors) and also inside server and argon2, where the
 * loader would silently drop a misspelt key.
 */
import type { z } from 'zod';
import { type Json, type PolicyEntry, type PolicyField } from './model';

/** The policy file with the built-in values, in the schema's order (= resources/policy.default.json). */
export function renderPolicyJson(schema: z.ZodType): string {
  return `${JSON.stringify(schema.parse({}), null, 2)}\n`;
}

const TYPE = {
  boolean: 'boolean',
  integer: 'integer',
  number: 'number',
  string: 'string',
  enum: 'string',
  list: 'array',
};

function property(f: PolicyField): Record<string, Json> {
  const p: Record<string, Json> = { title: f.title, description: f.description };
  const type = TYPE[f.kind];
  p.type = f.nullable ? [type, 'null'] : type;
  if (f.values) p.enum = f.nullable ? [...f.values, null] : f.values;
  for (const k of ['minimum', 'exclusiveMinimum', 'maximum', 'exclusiveMaximum', 'minLength', 'maxLength'] as const) {
    const v = f[k];
    if (v !== undefined) p[k] = v;
  }
  if (f.kind === 'list') p.items = f.pattern ? { type: 'string', pattern: f.pattern } : { type: 'string' };
  else if (f.pattern) p.pattern = f.pattern;
  if (f.default !== undefined) p.default = f.default;
  return p;
}

export function renderJsonSchema(entries: readonly PolicyEntry[]): string {
  const properties: Record<string, Json> = {};
  for (const e of entries) {
    if (e.kind !== 'group') {
      properties[e.name] = property(e);
      continue;
    }
    const group: Record<string, Json> = {
      title: e.title,
      description: e.description,
      type: e.nullable ? ['object', 'null'] : 'object',
      properties: Object.fromEntries(e.fields.map((f) => [f.name, property(f)])),
      additionalProperties: false,
    };
    const required = e.fields.filter((f) => f.required).map((f) => f.name);
    if (required.length > 0) group.required = required;
    if (e.default !== undefined) group.default = e.default;
    properties[e.name] = group;
  }
  const schema: Record<string, Json> = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Clinic Messenger managed policy',
    description:
      'Generated from main/policy/schema.ts by `npm run policy:templates`. Linux: /etc/clinic-messenger/policy.json, owned by root.',
    type: 'object',
    properties,
    additionalProperties: false,
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}
