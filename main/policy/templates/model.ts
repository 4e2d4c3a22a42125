/**
 * The policy schema as a list of fields, for the IT templates (issue 14 item 1). Built from zod's own
 * JSON Schema export (public API), so bounds, enums and defaults come from the same definitions the
 * loader validates with; every field must carry a title and a description (schema.ts `.meta`).
 */
import { z } from 'zod';

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

export type FieldKind = 'boolean' | 'integer' | 'number' | 'string' | 'enum' | 'list';

export interface PolicyField {
  kind: FieldKind;
  /** The JSON key (and registry value / plist key) of the field. */
  name: string;
  /** The key of the object holding it (server, argon2), or null at the top level. */
  parent: string | null;
  title: string;
  description: string;
  /** null is allowed (and means "not set"). */
  nullable: boolean;
  /** Must be given whenever its parent object is (server.domain). */
  required: boolean;
  /** undefined: no default, the field is simply absent. */
  default: Json | undefined;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  /** A regular expression the text (or, for a list, each entry) must match. */
  pattern?: string;
  /** The allowed values of an enum. */
  values?: string[];
  /** Text that spans lines (schema.ts `multiline`). */
  multiline: boolean;
}

export interface PolicyGroup {
  kind: 'group';
  name: string;
  title: string;
  description: string;
  nullable: boolean;
  default: Json | undefined;
  fields: PolicyField[];
}

export type PolicyEntry = PolicyField | PolicyGroup;

export class PolicyTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyTemplateError';
  }
}

type Node = { [k: string]: unknown };
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Splits "X or null" (anyOf [X, null] / type [t, 'null']) into X and the flag; meta stays on X. */
function unwrapNullable(node: Node): { node: Node; nullable: boolean } {
  const anyOf: unknown = node.anyOf;
  if (Array.isArray(anyOf)) {
    const rest = (anyOf as unknown[]).filter((n) => !(isNode(n) && n.type === 'null'));
    const only = rest[0];
    if (rest.length !== 1 || anyOf.length !== 2 || !isNode(only)) throw new PolicyTemplateError('unsupported union');
    const outer = { ...node };
    delete outer.anyOf;
    return { node: { ...only, ...outer }, nullable: true };
  }
  if (Array.isArray(node.type) && node.type.length === 2 && node.type.includes('null')) {
    return { node: { ...node, type: node.type.find((t) => t !== 'null') }, nullable: true };
  }
  return { node, nullable: false };
}

const num = (v: unknown): number | undefined =>
  // zod's .int() adds ±MAX_SAFE_INTEGER: not a limit anyone set, so not a bound in the templates.
  typeof v === 'number' && Math.abs(v) !== Number.MAX_SAFE_INTEGER ? v : undefined;

function kindOf(node: Node, where: string): FieldKind {
  if (node.type === 'boolean') return 'boolean';
  if (node.type === 'integer') return 'integer';
  if (node.type === 'number') return 'number';
  if (node.type === 'string') return Array.isArray(node.enum) ? 'enum' : 'string';
  if (node.type === 'array' && isNode(node.items) && node.items.type === 'string') return 'list';
  throw new PolicyTemplateError(`The policy field "${where}" has a type the templates cannot express.`);
}

function texts(node: Node, where: string, missing: string[]): { title: string; description: string } {
  const title = typeof node.title === 'string' ? node.title.trim() : '';
  const description = typeof node.description === 'string' ? node.description.trim() : '';
  if (!title || !description) missing.push(where);
  return { title, description };
}

function field(name: string, parent: string | null, raw: Node, required: boolean, missing: string[]): PolicyField {
  const where = parent ? `${parent}.${name}` : name;
  const { node, nullable } = unwrapNullable(raw);
  const kind = kindOf(node, where);
  const items = isNode(node.items) ? node.items : {};
  const pattern = kind === 'list' ? items.pattern : node.pattern;
  const f: PolicyField = {
    kind,
    name,
    parent,
    ...texts(node, where, missing),
    nullable,
    required,
    default: node.default as Json | undefined,
    multiline: node.multiline === true,
  };
  const bounds = ['minimum', 'exclusiveMinimum', 'maximum', 'exclusiveMaximum', 'minLength', 'maxLength'] as const;
  for (const key of bounds) {
    const v = num(node[key]);
    if (v !== undefined) f[key] = v;
  }
  if (typeof pattern === 'string') f.pattern = pattern;
  if (kind === 'enum') f.values = (node.enum as unknown[]).map(String);
  return f;
}

/**
 * The fields of `schema` in its own order. Throws PolicyTemplateError naming every field without a
 * title or description, and for shapes the registry reader (windows.ts) cannot map: objects nest
 * one level at most.
 */
export function policyModel(schema: z.ZodType): PolicyEntry[] {
  const root = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'throw' }) as Node;
  if (root.type !== 'object' || !isNode(root.properties)) throw new PolicyTemplateError('the policy is not an object');
  const missing: string[] = [];
  const entries: PolicyEntry[] = [];
  for (const [name, raw] of Object.entries(root.properties)) {
    if (!isNode(raw)) continue;
    const { node, nullable } = unwrapNullable(raw);
    if (node.type !== 'object') {
      entries.push(field(name, null, raw, false, missing));
      continue;
    }
    const props = isNode(node.properties) ? node.properties : {};
    const required = Array.isArray(node.required) ? node.required : [];
    const fields = Object.entries(props).map(([sub, subNode]) => {
      if (!isNode(subNode) || unwrapNullable(subNode).node.type === 'object')
        throw new PolicyTemplateError(`The policy field "${name}.${sub}" nests deeper than one level.`);
      return field(sub, name, subNode, required.includes(sub), missing);
    });
    // What must be set comes first (server.domain before host and port); otherwise the schema's order.
    fields.sort((a, b) => Number(b.required) - Number(a.required));
    const group: PolicyGroup = {
      kind: 'group',
      name,
      ...texts(node, name, missing),
      nullable,
      default: node.default as Json | undefined,
      fields,
    };
    entries.push(group);
  }
  if (missing.length > 0) {
    throw new PolicyTemplateError(
      `Every policy field needs a title and a description for the IT templates; missing on: ${missing.join(', ')}. ` +
        `Add .meta({ title, description }) to ${missing.length === 1 ? 'it' : 'them'} in main/policy/schema.ts.`,
    );
  }
  return entries;
}

/** Every field, nested ones after their group's position, in schema order. */
export const leaves = (entries: readonly PolicyEntry[]): PolicyField[] =>
  entries.flatMap((e) => (e.kind === 'group' ? e.fields : [e]));

/** "server.port" or "lockOnOsLock". */
export const pathOf = (f: PolicyField): string => (f.parent ? `${f.parent}.${f.name}` : f.name);

/** Registry DWORDs are unsigned 32-bit. */
export const DWORD_MAX = 0xffff_ffff;

/**
 * The whole-number range of a numeric field: Group Policy and the macOS profile editors take whole
 * numbers only (a DWORD, a plist integer). An exclusive bound becomes the next whole number inside.
 */
export function wholeRange(f: PolicyField): { min: number; max: number | undefined } {
  const min =
    f.minimum !== undefined
      ? Math.ceil(f.minimum)
      : f.exclusiveMinimum !== undefined
        ? Math.floor(f.exclusiveMinimum) + 1
        : undefined;
  const max =
    f.maximum !== undefined
      ? Math.floor(f.maximum)
      : f.exclusiveMaximum !== undefined
        ? Math.ceil(f.exclusiveMaximum) - 1
        : undefined;
  if (min !== undefined && min < 0) throw new PolicyTemplateError(`The policy field "${pathOf(f)}" may be negative.`);
  return { min: min ?? 0, max };
}

/** A value as IT reads it in an explain text: on/off, a number, quoted text, or "not set". */
export function shownValue(f: PolicyField, v: Json | undefined): string {
  if (v === undefined || v === null) return 'not set';
  if (f.kind === 'boolean') return v ? 'on' : 'off';
  if (f.kind === 'list') return Array.isArray(v) && v.length === 0 ? 'empty' : JSON.stringify(v);
  if (typeof v === 'string') return f.kind === 'enum' ? v : JSON.stringify(v);
  return typeof v === 'number' ? String(v) : JSON.stringify(v);
}

/** The allowed values in words ("3 to 100", "none, sender or full"), or null when anything of the type goes. */
export function allowedText(f: PolicyField): string | null {
  if (f.kind === 'integer' || f.kind === 'number') {
    const { min, max } = wholeRange(f);
    return max === undefined ? `${min} or more` : `${min} to ${max}`;
  }
  if (f.kind === 'enum' && f.values) return f.values.join(', ');
  if (f.maxLength !== undefined) return `at most ${f.maxLength} characters`;
  return null;
}
