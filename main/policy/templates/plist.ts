/**
 * macOS: an example configuration profile (Jamf / Intune custom settings) and a preference manifest
 * in the ProfileManifests "pfm" format that iMazing Profile Editor and ProfileCreator read, for the
 * preference domain `org.clinicmessenger.desktop`. Numbers are plist integers: the profile editors
 * take whole numbers, as Group Policy does (model.ts wholeRange).
 */
import { escapeText } from '../../crypto/xml';
import { PolicyTemplateError, wholeRange, type Json, type PolicyEntry, type PolicyField } from './model';

export const POLICY_DOMAIN = 'org.clinicmessenger.desktop';
// Fixed, so the generated file does not change from run to run; an MDM gives the deployed copy its own.
const PROFILE_UUID = 'C7E3F0A2-5B1D-4E8A-9C36-2F4D8B1A6E90';
const PAYLOAD_UUID = '4A9D2C71-8E5F-4B03-A6D2-1C7E9F3B5D48';

type Plist = string | number | boolean | Plist[] | { [k: string]: Plist };

const HEAD = [
  '<?xml version="1.0" encoding="UTF-8"?>',
  '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
  '<plist version="1.0">',
];

/** One plist value, indented by `pad`; dictionary keys sorted so the output is stable. */
function plist(v: Plist, pad: string): string {
  if (typeof v === 'boolean') return `${pad}<${v}/>`;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new PolicyTemplateError(`${v} is not a whole number`);
    return `${pad}<integer>${v}</integer>`;
  }
  if (typeof v === 'string') return `${pad}<string>${escapeText(v)}</string>`;
  if (Array.isArray(v)) {
    if (v.length === 0) return `${pad}<array/>`;
    return [`${pad}<array>`, ...v.map((x) => plist(x, `${pad}  `)), `${pad}</array>`].join('\n');
  }
  const keys = Object.keys(v).sort();
  if (keys.length === 0) return `${pad}<dict/>`;
  const body = keys.flatMap((k) => [`${pad}  <key>${escapeText(k)}</key>`, plist(v[k] as Plist, `${pad}  `)]);
  return [`${pad}<dict>`, ...body, `${pad}</dict>`].join('\n');
}

/** JSON → plist; null is "not set", which a plist cannot hold: the caller leaves such keys out. */
function fromJson(v: Json): Plist {
  if (v === null) throw new PolicyTemplateError('null has no plist form');
  if (Array.isArray(v)) return v.map(fromJson);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromJson(x)]));
  return v;
}

export function renderMobileconfig(entries: readonly PolicyEntry[]): string {
  const settings: { name: string; lines: string }[] = [];
  for (const e of entries) {
    const pad = '        ';
    if (e.default === undefined || e.default === null) {
      // Not set by default: named in a comment so IT sees the key exists.
      const what = e.kind === 'group' ? `a dictionary of ${e.fields.map((f) => f.name).join(', ')}` : e.kind;
      settings.push({ name: e.name, lines: `${pad}<!-- ${e.name} (${what}): not set by default -->` });
    } else {
      settings.push({ name: e.name, lines: `${pad}<key>${e.name}</key>\n${plist(fromJson(e.default), pad)}` });
    }
  }
  const header = (payload: Record<string, Plist>, pad: string) =>
    plist(payload, pad)
      .split('\n')
      .slice(1, -1) // without <dict> </dict>: the policy keys join these
      .join('\n');
  const inner = {
    PayloadDisplayName: 'Clinic Messenger policy',
    PayloadIdentifier: `${POLICY_DOMAIN}.policy`,
    PayloadType: POLICY_DOMAIN,
    PayloadUUID: PAYLOAD_UUID,
    PayloadVersion: 1,
  };
  const outer = {
    PayloadDescription: 'Managed settings for Clinic Messenger (every key with its built-in default).',
    PayloadDisplayName: 'Clinic Messenger',
    PayloadIdentifier: `${POLICY_DOMAIN}.profile`,
    PayloadScope: 'System',
    PayloadType: 'Configuration',
    PayloadUUID: PROFILE_UUID,
    PayloadVersion: 1,
  };
  const content = [...settings.sort((a, b) => (a.name < b.name ? -1 : 1)).map((s) => s.lines)];
  return [
    ...HEAD,
    '<!-- Generated from main/policy/schema.ts by `npm run policy:templates`. Do not edit. -->',
    '  <dict>',
    '    <key>PayloadContent</key>',
    '    <array>',
    '      <dict>',
    header(inner, '      '),
    ...content,
    '      </dict>',
    '    </array>',
    header(outer, '  '),
    '  </dict>',
    '</plist>',
    '',
  ].join('\n');
}

const PFM_TYPE = {
  boolean: 'boolean',
  integer: 'integer',
  number: 'integer',
  string: 'string',
  enum: 'string',
  list: 'array',
} as const;

function subkey(f: PolicyField): Record<string, Plist> {
  const k: Record<string, Plist> = {
    pfm_name: f.name,
    pfm_title: f.title,
    pfm_description: f.description,
    pfm_type: PFM_TYPE[f.kind],
  };
  if (f.default !== undefined && f.default !== null) k.pfm_default = fromJson(f.default);
  if (f.required) k.pfm_require = 'always';
  if (f.kind === 'integer' || f.kind === 'number') {
    const { min, max } = wholeRange(f);
    k.pfm_range_min = min;
    if (max !== undefined) k.pfm_range_max = max;
  }
  if (f.values) k.pfm_range_list = f.values;
  if (f.kind === 'list') {
    const item: Record<string, Plist> = { pfm_type: 'string', pfm_title: 'Entry' };
    if (f.pattern) item.pfm_format = f.pattern;
    k.pfm_subkeys = [item];
  } else if (f.pattern) k.pfm_format = f.pattern;
  return k;
}

const payloadKey = (name: string, type: string, title: string, def?: Plist): Record<string, Plist> => ({
  pfm_name: name,
  pfm_type: type,
  pfm_title: title,
  pfm_require: 'always',
  ...(def === undefined ? {} : { pfm_default: def }),
});

export function renderManifest(entries: readonly PolicyEntry[]): string {
  const keys = entries.map((e) => {
    if (e.kind !== 'group') return subkey(e);
    const k: Record<string, Plist> = {
      pfm_name: e.name,
      pfm_title: e.title,
      pfm_description: e.description,
      pfm_type: 'dictionary',
      pfm_subkeys: e.fields.map(subkey),
    };
    if (e.default !== undefined && e.default !== null) k.pfm_default = fromJson(e.default);
    return k;
  });
  const manifest: Record<string, Plist> = {
    pfm_description: 'Managed settings for Clinic Messenger, generated from its policy schema.',
    pfm_domain: POLICY_DOMAIN,
    pfm_format_version: 1,
    pfm_platforms: ['macOS'],
    pfm_title: 'Clinic Messenger',
    pfm_unique: true,
    pfm_version: 1,
    pfm_subkeys: [
      payloadKey('PayloadDisplayName', 'string', 'Payload display name', 'Clinic Messenger policy'),
      payloadKey('PayloadIdentifier', 'string', 'Payload identifier', `${POLICY_DOMAIN}.policy`),
      payloadKey('PayloadType', 'string', 'Payload type', POLICY_DOMAIN),
      payloadKey('PayloadUUID', 'string', 'Payload UUID'),
      payloadKey('PayloadVersion', 'integer', 'Payload version', 1),
      ...keys,
    ],
  };
  return [
    ...HEAD,
    '<!-- Generated from main/policy/schema.ts by `npm run policy:templates`. Do not edit. -->',
    plist(manifest, ''),
    '</plist>',
    '',
  ].join('\n');
}
