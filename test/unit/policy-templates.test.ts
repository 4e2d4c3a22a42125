/**
 * The IT policy templates (issue 14 item 1): every schema field in every artifact with the same
 * name, type, bounds and default; well-formed XML whose ids resolve; the registry values the ADMX
 * writes read back through windows.ts into a valid policy; the committed files are current.
 * Expectations come from zod itself (its classes, and probing what it accepts), not from the
 * generator's model.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { childElements, parseXml, textOf, type XmlElement } from '../../main/crypto/xml';
import { defaultPolicy, policySchema } from '../../main/policy/schema';
import { TEMPLATES_DIR, renderPolicyTemplates } from '../../main/policy/templates/index';
import { registryPolicy, type WindowsCommand } from '../../main/policy/windows';

type Kind = 'boolean' | 'integer' | 'number' | 'string' | 'enum' | 'list';
interface Leaf {
  path: string;
  parent: string | null;
  name: string;
  kind: Kind;
  nullable: boolean;
  default: unknown;
  description: string;
  values?: readonly string[];
  maxLength?: number;
}

/** Unwraps default / nullable / optional, collecting the outermost description. */
function unwrap(schema: z.ZodType): { inner: z.ZodType; nullable: boolean; description: string } {
  let s = schema;
  let nullable = false;
  let description = z.globalRegistry.get(s)?.description ?? '';
  for (;;) {
    if (s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodNullable) {
      nullable = true;
      s = s.unwrap() as z.ZodType;
    } else break;
    description ||= z.globalRegistry.get(s)?.description ?? '';
  }
  return { inner: s, nullable, description };
}

function leafOf(name: string, parent: string | null, schema: z.ZodType): Leaf {
  const { inner, nullable, description } = unwrap(schema);
  const parsed = schema.safeParse(undefined);
  const base = {
    path: parent ? `${parent}.${name}` : name,
    parent,
    name,
    nullable,
    description,
    default: parsed.success ? parsed.data : undefined,
  };
  if (inner instanceof z.ZodBoolean) return { ...base, kind: 'boolean' };
  if (inner instanceof z.ZodNumber) return { ...base, kind: inner.isInt ? 'integer' : 'number' };
  if (inner instanceof z.ZodEnum) return { ...base, kind: 'enum', values: inner.options.map(String) };
  if (inner instanceof z.ZodArray) return { ...base, kind: 'list' };
  if (inner instanceof z.ZodString) return { ...base, kind: 'string', maxLength: inner.maxLength ?? undefined };
  throw new Error(`unexpected schema type at ${base.path}`);
}

const groups = new Map<string, { description: string; default: unknown }>();
const LEAVES: Leaf[] = Object.entries(policySchema.shape).flatMap(([name, field]) => {
  const { inner, description } = unwrap(field as z.ZodType);
  if (!(inner instanceof z.ZodObject)) return [leafOf(name, null, field as z.ZodType)];
  groups.set(name, { description, default: (defaultPolicy as Record<string, unknown>)[name] });
  return Object.entries(inner.shape).map(([sub, s]) => leafOf(sub, name, s as z.ZodType));
});

// The least a group needs around one of its fields to validate (server needs its domain).
const GROUP_FILL: Record<string, Record<string, unknown>> = { server: { domain: 'clinic.example.org' }, argon2: {} };

function accepts(leaf: Leaf, value: unknown): boolean {
  const input = leaf.parent
    ? { [leaf.parent]: { ...GROUP_FILL[leaf.parent], [leaf.name]: value } }
    : { [leaf.name]: value };
  return policySchema.safeParse(input).success;
}

/** `min` is the smallest whole number zod accepts for the field; `max` the largest (or the DWORD ceiling). */
function expectWholeRange(leaf: Leaf, min: number, max: number | undefined, ceiling?: number) {
  expect(accepts(leaf, min), `${leaf.path} accepts ${min}`).toBe(true);
  expect(accepts(leaf, min - 1), `${leaf.path} refuses ${min - 1}`).toBe(false);
  if (max === undefined) {
    expect(accepts(leaf, Number.MAX_SAFE_INTEGER), `${leaf.path} is unbounded`).toBe(true);
    return;
  }
  expect(accepts(leaf, max), `${leaf.path} accepts ${max}`).toBe(true);
  if (max !== ceiling) expect(accepts(leaf, max + 1), `${leaf.path} refuses ${max + 1}`).toBe(false);
}

const files = renderPolicyTemplates();
const file = (path: string): string => {
  const text = files.get(path);
  if (text === undefined) throw new Error(`${path} was not generated`);
  return text;
};
const LIMITS = { maxDepth: 32, maxNodes: 50_000 };
const attr = (el: XmlElement, name: string): string | undefined => el.attrs[name];
const find = (el: XmlElement, name: string): XmlElement[] =>
  childElements(el).flatMap((c) => (c.name === name ? [c, ...find(c, name)] : find(c, name)));

describe('the schema the templates come from', () => {
  it('gives every field a description', () => {
    expect(LEAVES.length).toBeGreaterThan(15);
    for (const leaf of LEAVES) expect(leaf.description, leaf.path).not.toBe('');
    for (const [name, g] of groups) expect(g.description, name).not.toBe('');
    expect(Object.keys(GROUP_FILL).sort()).toEqual([...groups.keys()].sort());
  });

  it('refuses to generate when a field has no description, naming it', () => {
    const extra = policySchema.extend({ kioskMode: z.boolean().default(false) });
    expect(() => renderPolicyTemplates(extra)).toThrow(/kioskMode.*main\/policy\/schema\.ts/);
    const nested = policySchema.extend({
      argon2: z
        .object({ salt: z.number().default(1) })
        .default({ salt: 1 })
        .meta({ title: 'T', description: 'D' }),
    });
    expect(() => renderPolicyTemplates(nested)).toThrow(/argon2\.salt/);
  });
});

describe('Windows ADMX / ADML', () => {
  const admxText = file('windows/ClinicMessenger.admx');
  const admlText = file('windows/en-US/ClinicMessenger.adml');
  const admx = parseXml(admxText, LIMITS);
  const adml = parseXml(admlText, LIMITS);
  const strings = new Map(find(adml, 'string').map((s) => [attr(s, 'id') ?? '', textOf(s)]));
  const presentations = new Map(find(adml, 'presentation').map((p) => [attr(p, 'id') ?? '', p]));
  const policies = find(admx, 'policy');
  const ref = (value: string | undefined, kind: 'string' | 'presentation'): string => {
    const m = new RegExp(`^\\$\\(${kind}\\.([^)]+)\\)$`).exec(value ?? '');
    if (!m) throw new Error(`not a ${kind} reference: ${value}`);
    return m[1] as string;
  };

  it('are well-formed Group Policy documents whose string and presentation ids all resolve', () => {
    const ns = 'http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions';
    expect([admx.name, admx.ns, adml.name, adml.ns]).toEqual([
      'policyDefinitions',
      ns,
      'policyDefinitionResources',
      ns,
    ]);
    const ids = find(adml, 'string').map((s) => attr(s, 'id'));
    expect(new Set(ids).size).toBe(ids.length);
    const refs = [...admxText.matchAll(/\$\((string|presentation)\.([^)]*)\)/g)];
    expect(refs.length).toBeGreaterThan(LEAVES.length * 2);
    for (const [whole, kind, id] of refs) {
      const table = kind === 'string' ? strings : presentations;
      expect(table.has(id as string), `${whole} is defined in the ADML`).toBe(true);
    }
    const categories = new Set(find(admx, 'category').map((c) => attr(c, 'name')));
    for (const p of find(admx, 'parentCategory')) expect(categories.has(attr(p, 'ref'))).toBe(true);
    const supported = new Set(find(admx, 'definition').map((d) => attr(d, 'name')));
    for (const s of find(admx, 'supportedOn').filter((e) => attr(e, 'ref')))
      expect(supported.has(attr(s, 'ref'))).toBe(true);
    // Each presentation control names an element of the policy that uses it.
    for (const policy of policies) {
      const pres = attr(policy, 'presentation');
      if (!pres) continue;
      const elementIds = new Set(
        childElements(childElements(policy, 'elements')[0] as XmlElement).map((e) => attr(e, 'id')),
      );
      const controls = childElements(presentations.get(ref(pres, 'presentation')) as XmlElement);
      expect(controls.length).toBeGreaterThan(0);
      for (const c of controls) expect(elementIds.has(attr(c, 'refId')), `${pres} → ${attr(c, 'refId')}`).toBe(true);
    }
  });

  it('has one policy per schema field, under the vendor key, with its type, bounds, explain text and default', () => {
    expect(policies).toHaveLength(LEAVES.length);
    for (const leaf of LEAVES) {
      const key = `Software\\Policies\\ClinicMessenger${leaf.parent ? `\\${leaf.parent}` : ''}`;
      const policy = policies.find(
        (p) =>
          attr(p, 'key') === key &&
          (attr(p, 'valueName') === leaf.name ||
            find(p, 'elements').some((e) => childElements(e).some((c) => attr(c, 'valueName') === leaf.name))),
      );
      expect(policy, leaf.path).toBeDefined();
      if (!policy) continue;
      expect(attr(policy, 'class')).toBe('Both'); // windows.ts reads HKLM, then HKCU
      const explain = strings.get(ref(attr(policy, 'explainText'), 'string')) ?? '';
      expect(explain.startsWith(leaf.description), `${leaf.path} explain`).toBe(true);
      expect(explain).toContain(`Not configured: ${shown(leaf)}.`);
      expect(strings.get(ref(attr(policy, 'displayName'), 'string'))).toBeTruthy();
      if (leaf.kind === 'boolean') {
        expect(attr(find(policy, 'enabledValue')[0]?.children[0] as XmlElement, 'value')).toBe('1');
        expect(attr(find(policy, 'disabledValue')[0]?.children[0] as XmlElement, 'value')).toBe('0');
        continue;
      }
      const element = childElements(find(policy, 'elements')[0] as XmlElement)[0] as XmlElement;
      const control = childElements(
        presentations.get(ref(attr(policy, 'presentation'), 'presentation')) as XmlElement,
      )[0] as XmlElement;
      checkElement(leaf, element, control);
    }
  });

  function checkElement(leaf: Leaf, element: XmlElement, control: XmlElement) {
    const names: Record<Kind, string | null> = {
      boolean: null,
      integer: 'decimal',
      number: 'decimal',
      enum: 'enum',
      list: 'multiText',
      string: null, // text, or multiText for text that spans lines
    };
    const expected = names[leaf.kind];
    if (expected) expect(element.name, leaf.path).toBe(expected);
    else expect(['text', 'multiText'], leaf.path).toContain(element.name);
    if (element.name === 'decimal') {
      const ceiling = 0xffff_ffff;
      expectWholeRange(leaf, Number(attr(element, 'minValue')), Number(attr(element, 'maxValue')), ceiling);
      expect(control.name).toBe('decimalTextBox');
      expect(attr(control, 'defaultValue')).toBe(typeof leaf.default === 'number' ? String(leaf.default) : undefined);
    }
    if (leaf.kind === 'enum') {
      const items = find(element, 'string').map(textOf);
      expect(items).toEqual(leaf.values);
      expect(control.name).toBe('dropdownList');
      expect(Number(attr(control, 'defaultItem'))).toBe(leaf.values?.indexOf(leaf.default as string));
    }
    if (leaf.kind === 'string') {
      expect(attr(element, 'maxLength')).toBe(leaf.maxLength === undefined ? undefined : String(leaf.maxLength));
      if (element.name === 'text') {
        const def = childElements(control, 'defaultValue')[0];
        expect(def ? textOf(def) : undefined).toBe(leaf.default ?? undefined);
      }
    }
  }

  it('writes registry values that windows.ts reads back into a valid policy with the same values', () => {
    const samples: Record<string, unknown> = {
      'server.domain': 'clinic.example.org',
      'server.host': 'xmpp.clinic.example.org',
      trustedCaPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
      updateFeedUrl: 'https://updates.clinic.example.org/',
      adminAccount: 'it-admin@clinic.example.org',
      complianceAccount: 'compliance@clinic.example.org',
      complianceKeyFingerprint: 'B'.repeat(40),
      messagingPolicyText: 'First line.\nSecond line.',
      updateMinVersion: '2.4.0',
      updateMaxVersion: '2.9.99',
    };
    const keys = new Map<string, string[]>();
    const expected: Record<string, unknown> = {};
    for (const policy of policies) {
      const key = `HKEY_LOCAL_MACHINE\\${attr(policy, 'key')}`;
      const leaf = LEAVES.find(
        (l) => key.endsWith(l.parent ? `\\${l.parent}` : 'ClinicMessenger') && policyWrites(policy, l.name),
      );
      expect(leaf, attr(policy, 'name')).toBeDefined();
      if (!leaf) continue;
      const { line, value } = registryLine(policy, leaf, samples[leaf.path]);
      keys.set(key, [...(keys.get(key) ?? []), line]);
      if (leaf.parent) expected[leaf.parent] = { ...(expected[leaf.parent] as object), [leaf.name]: value };
      else expected[leaf.name] = value;
    }
    const stdout = [...keys].map(([key, lines]) => [key, ...lines, ''].join('\r\n')).join('\r\n');
    const run: WindowsCommand = (tool, args) => {
      expect([tool, ...args]).toEqual(['reg', 'query', 'HKLM\\Software\\Policies\\ClinicMessenger', '/s']);
      return { code: 0, stdout };
    };
    const parsed = policySchema.safeParse(registryPolicy(run, defaultPolicy));
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(parsed.data).toMatchObject(expected);
  });

  const policyWrites = (p: XmlElement, name: string) =>
    attr(p, 'valueName') === name ||
    find(p, 'elements').some((e) => childElements(e).some((c) => attr(c, 'valueName') === name));

  /** The `reg query` line Group Policy would leave for this policy set to a non-default value. */
  function registryLine(policy: XmlElement, leaf: Leaf, sample: unknown): { line: string; value: unknown } {
    const line = (type: string, data: string) => `    ${leaf.name}    ${type}    ${data}`;
    if (leaf.kind === 'boolean') {
      const value = !leaf.default;
      const which = find(policy, value ? 'enabledValue' : 'disabledValue')[0]?.children[0] as XmlElement;
      return { line: line('REG_DWORD', `0x${Number(attr(which, 'value')).toString(16)}`), value };
    }
    const element = childElements(find(policy, 'elements')[0] as XmlElement)[0] as XmlElement;
    if (element.name === 'decimal') {
      const value = Number(attr(element, 'minValue'));
      return { line: line('REG_DWORD', `0x${value.toString(16)}`), value };
    }
    if (element.name === 'enum') {
      const value = textOf(find(element, 'string').at(-1) as XmlElement);
      return { line: line('REG_SZ', value), value };
    }
    if (leaf.kind === 'list') {
      const value = ['A'.repeat(40), 'B'.repeat(40)];
      return { line: line('REG_MULTI_SZ', value.join('\\0')), value };
    }
    expect(typeof sample, `a sample value for ${leaf.path} in this test`).toBe('string');
    const text = sample as string;
    if (element.name === 'multiText') return { line: line('REG_MULTI_SZ', text.split('\n').join('\\0')), value: text };
    expect(text).not.toContain('\n');
    return { line: line('REG_SZ', text), value: text };
  }
});

/** The default as the explain text words it. */
function shown(leaf: Leaf): string {
  const v = leaf.default;
  if (v === undefined || v === null) return 'not set';
  if (leaf.kind === 'boolean') return v ? 'on' : 'off';
  if (leaf.kind === 'list') return (v as unknown[]).length === 0 ? 'empty' : JSON.stringify(v);
  if (leaf.kind === 'enum' && typeof v === 'string') return v;
  return typeof v === 'number' ? String(v) : JSON.stringify(v);
}

type PlistValue = string | number | boolean | PlistValue[] | { [k: string]: PlistValue };

/** A plist document: the Apple DTD line is the only declaration; the strict reader refuses DTDs. */
function readPlist(text: string): PlistValue {
  const doctype =
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">';
  expect(text.split('\n')[1]).toBe(doctype);
  const root = parseXml(text.replace(doctype, ''), LIMITS);
  expect([root.name, attr(root, 'version')]).toEqual(['plist', '1.0']);
  const kids = childElements(root);
  expect(kids).toHaveLength(1);
  return plistValue(kids[0] as XmlElement);
}

function plistValue(el: XmlElement): PlistValue {
  switch (el.name) {
    case 'string':
      return textOf(el);
    case 'integer':
      expect(textOf(el)).toMatch(/^-?\d+$/);
      return Number(textOf(el));
    case 'true':
    case 'false':
      expect(el.children).toHaveLength(0);
      return el.name === 'true';
    case 'array':
      return childElements(el).map(plistValue);
    case 'dict': {
      const kids = childElements(el);
      const out: Record<string, PlistValue> = {};
      expect(kids.length % 2).toBe(0);
      for (let i = 0; i < kids.length; i += 2) {
        const k = kids[i] as XmlElement;
        expect(k.name).toBe('key');
        expect(Object.hasOwn(out, textOf(k)), `duplicate key ${textOf(k)}`).toBe(false);
        out[textOf(k)] = plistValue(kids[i + 1] as XmlElement);
      }
      return out;
    }
    default:
      throw new Error(`unexpected plist element <${el.name}>`);
  }
}

const PFM_TYPE: Record<Kind, string> = {
  boolean: 'boolean',
  integer: 'integer',
  number: 'integer',
  string: 'string',
  enum: 'string',
  list: 'array',
};

describe('macOS profile and preference manifest', () => {
  it('the example profile sets every key with a default to it, names the others, and targets the domain', () => {
    const text = file('macos/org.clinicmessenger.desktop.mobileconfig');
    const profile = readPlist(text) as Record<string, PlistValue>;
    expect(profile.PayloadType).toBe('Configuration');
    const payloads = profile.PayloadContent as Record<string, PlistValue>[];
    expect(payloads).toHaveLength(1);
    const payload = payloads[0] as Record<string, PlistValue>;
    expect(payload.PayloadType).toBe('org.clinicmessenger.desktop');
    const policyKeys = Object.keys(payload).filter((k) => !k.startsWith('Payload'));
    for (const [name, value] of Object.entries(defaultPolicy)) {
      if (value === null) {
        expect(policyKeys, name).not.toContain(name);
        expect(text).toMatch(new RegExp(`<!-- ${name} \\(.*\\): not set by default -->`));
      } else expect(payload[name], name).toEqual(value);
    }
    expect(policyKeys.sort()).toEqual(
      Object.keys(defaultPolicy)
        .filter((k) => (defaultPolicy as Record<string, unknown>)[k] !== null)
        .sort(),
    );
    // A whole number is a plist <integer>, never a <real> (readPlist refuses <real>).
    expect(text).toContain('<key>lockTimeoutMaxMinutes</key>\n        <integer>5</integer>');
  });

  it('the manifest describes every field with its name, type, bounds, values and default', () => {
    const manifest = readPlist(file('macos/org.clinicmessenger.desktop.plist')) as Record<string, PlistValue>;
    expect(manifest.pfm_domain).toBe('org.clinicmessenger.desktop');
    const top = (manifest.pfm_subkeys as Record<string, PlistValue>[]).filter(
      (k) => typeof k.pfm_name === 'string' && !k.pfm_name.startsWith('Payload'),
    );
    expect(top.map((k) => k.pfm_name)).toEqual(Object.keys(policySchema.shape));
    for (const [name, g] of groups) {
      const k = top.find((t) => t.pfm_name === name) as Record<string, PlistValue>;
      expect([k.pfm_type, k.pfm_description]).toEqual(['dictionary', g.description]);
      expect(k.pfm_default).toEqual(g.default ?? undefined);
    }
    for (const leaf of LEAVES) {
      const holder = leaf.parent
        ? ((top.find((t) => t.pfm_name === leaf.parent) as Record<string, PlistValue>).pfm_subkeys as Record<
            string,
            PlistValue
          >[])
        : top;
      const k = holder.find((t) => t.pfm_name === leaf.name);
      expect(k, leaf.path).toBeDefined();
      if (!k) continue;
      expect(k.pfm_type, leaf.path).toBe(PFM_TYPE[leaf.kind]);
      expect(k.pfm_description).toBe(leaf.description);
      expect(k.pfm_title).toBeTruthy();
      expect(k.pfm_default, leaf.path).toEqual(leaf.default ?? undefined);
      if (leaf.kind === 'integer' || leaf.kind === 'number')
        expectWholeRange(leaf, k.pfm_range_min as number, k.pfm_range_max as number | undefined);
      else expect([k.pfm_range_min, k.pfm_range_max]).toEqual([undefined, undefined]);
      expect(k.pfm_range_list).toEqual(leaf.values);
    }
  });
});

describe('Linux policy.json and its JSON Schema', () => {
  const policyJson: unknown = JSON.parse(file('linux/policy.json'));
  const schema = JSON.parse(file('linux/policy.schema.json')) as {
    properties: Record<string, Record<string, unknown>>;
  };
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const validate = ajv.compile(schema);

  it('policy.json is every key at its default, the file the loader accepts', () => {
    expect(policyJson).toEqual(defaultPolicy);
    expect(Object.keys(policyJson as object)).toEqual(Object.keys(policySchema.shape));
    expect(file('linux/policy.json')).toBe(readFileSync('resources/policy.default.json', 'utf8'));
  });

  it('the JSON Schema accepts policy.json and refuses what the loader refuses', () => {
    expect(validate(policyJson), JSON.stringify(validate.errors)).toBe(true);
    const base = policyJson as Record<string, unknown>;
    const bad: Record<string, unknown>[] = [
      { ...base, maxFailedUnlocks: 101 },
      { ...base, lockTimeoutMaxMinutes: 0 },
      { ...base, notificationPreview: 'everything' },
      { ...base, kioskMode: true },
      { ...base, server: { domain: 'clinic.example.org', tls: 'plain' } },
      { ...base, server: { host: 'xmpp.clinic.example.org' } },
      { ...base, argon2: { memoryKiB: 1024 } },
      { ...base, adminKeyFingerprints: ['abc'] },
      { ...base, updateFeedUrl: 'http://updates.clinic.example.org/' },
    ];
    for (const input of bad) {
      expect(policySchema.safeParse(input).success, JSON.stringify(input).slice(0, 80)).toBe(false);
      expect(validate(input), JSON.stringify(input).slice(0, 80)).toBe(false);
    }
    const good = { ...base, server: { domain: 'clinic.example.org', port: 5223, tls: 'direct' }, retentionDays: 30 };
    expect(policySchema.safeParse(good).success).toBe(true);
    expect(validate(good), JSON.stringify(validate.errors)).toBe(true);
  });

  it('describes every field with its name, type, bounds, values and default', () => {
    expect(Object.keys(schema.properties)).toEqual(Object.keys(policySchema.shape));
    for (const leaf of LEAVES) {
      const p = (
        leaf.parent
          ? (schema.properties[leaf.parent]?.properties as Record<string, Record<string, unknown>>)
          : schema.properties
      )[leaf.name];
      expect(p, leaf.path).toBeDefined();
      if (!p) continue;
      const type = {
        boolean: 'boolean',
        integer: 'integer',
        number: 'number',
        string: 'string',
        enum: 'string',
        list: 'array',
      }[leaf.kind];
      expect(p.type, leaf.path).toEqual(leaf.nullable ? [type, 'null'] : type);
      expect(p.description).toBe(leaf.description);
      expect(p.default, leaf.path).toEqual(leaf.default);
      expect(p.enum).toEqual(leaf.values);
      expect(p.maxLength).toBe(leaf.maxLength);
      if (leaf.kind === 'integer' || leaf.kind === 'number') checkJsonBounds(leaf, p);
    }
  });

  function checkJsonBounds(leaf: Leaf, p: Record<string, unknown>) {
    const eps = leaf.kind === 'integer' ? 1 : 0.001;
    const bound = (k: string): number | undefined => {
      const v = p[k];
      return typeof v === 'number' ? v : undefined;
    };
    const [min, xmin, max] = [bound('minimum'), bound('exclusiveMinimum'), bound('maximum')];
    expect(
      [min, xmin].filter((b) => b !== undefined),
      `${leaf.path} has a lower bound`,
    ).toHaveLength(1);
    if (min !== undefined) expect([accepts(leaf, min), accepts(leaf, min - eps)]).toEqual([true, false]);
    if (xmin !== undefined) expect([accepts(leaf, xmin), accepts(leaf, xmin + eps)]).toEqual([false, true]);
    if (max !== undefined) expect([accepts(leaf, max), accepts(leaf, max + eps)]).toEqual([true, false]);
    else expect(accepts(leaf, Number.MAX_SAFE_INTEGER)).toBe(true);
  }
});

describe('the committed templates', () => {
  const out = mkdtempSync(join(tmpdir(), 'policy-templates-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const list = (dir: string): string[] =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => relative(dir, join(d.parentPath, d.name)).split('\\').join('/'))
      .sort();

  it('are current: `npm run policy:templates` into a fresh folder writes the same bytes', () => {
    execFileSync(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/policy-templates.ts', out], {
      stdio: 'pipe',
    });
    const generated = list(out);
    expect(generated).toEqual([...files.keys()]);
    expect(list(TEMPLATES_DIR)).toEqual(generated);
    for (const path of generated) {
      const fresh = readFileSync(join(out, path));
      expect(
        fresh.equals(readFileSync(join(TEMPLATES_DIR, path))),
        `${path} is current (run npm run policy:templates)`,
      ).toBe(true);
      expect(fresh.toString('utf8')).toBe(file(path));
    }
    expect(renderPolicyTemplates()).toEqual(files); // and the same on every run
  });
});
