/**
 * Group Policy / Intune templates (ADMX + en-US ADML) from the policy model, in the shape VS Code's
 * build/lib/policies generator uses. The values land exactly where windows.ts reads them:
 * `HKLM\Software\Policies\ClinicMessenger` (a vendor key: Intune's ADMX import refuses templates
 * under `…\Policies\Microsoft\…`), one subkey per nested object (server, argon2), numbers and on/off
 * as REG_DWORD, text and enums as REG_SZ, lists and multi-line text as REG_MULTI_SZ (multiText,
 * one entry per line; ADMX's <list> would write a subkey, which the reader takes for an object).
 * Class Both: the reader takes HKLM (Computer Configuration), then HKCU (User Configuration) under
 * the same path (windows.ts), so Group Policy offers every setting in both places.
 */
import { escapeAttr, escapeText } from '../../crypto/xml';
import { POLICY_REGISTRY_KEY } from '../windows';
import { DWORD_MAX, allowedText, shownValue, wholeRange, type PolicyEntry, type PolicyField } from './model';

export const ADMX_KEY = POLICY_REGISTRY_KEY.replace(/^HKLM\\/, '');
export const ADMX_CLASS = 'Both';
const PREFIX = 'ClinicMessenger';
const ROOT_CATEGORY = 'ClinicMessenger';
const SUPPORTED = 'SUPPORTED_ClinicMessenger_0_1';

/** Policy, category and string ids: [A-Za-z0-9_] only. */
const policyName = (f: PolicyField): string => (f.parent ? `${f.parent}_${f.name}` : f.name);
const categoryOf = (f: PolicyField): string => (f.parent ? `${ROOT_CATEGORY}_${f.parent}` : ROOT_CATEGORY);
const keyOf = (f: PolicyField): string => (f.parent ? `${ADMX_KEY}\\${f.parent}` : ADMX_KEY);
/** An enum value as part of a string id; ids hold [A-Za-z0-9_] only. */
const itemId = (f: PolicyField, v: string): string => {
  if (!/^[A-Za-z0-9_]+$/.test(v)) throw new Error(`the enum value "${v}" of ${f.name} cannot be part of an ADML id`);
  return `${policyName(f)}_${v}`;
};
const isMultiText = (f: PolicyField): boolean => f.kind === 'list' || (f.kind === 'string' && f.multiline);

/** The registry type windows.ts expects for the field. */
export function registryType(f: PolicyField): 'REG_DWORD' | 'REG_SZ' | 'REG_MULTI_SZ' {
  if (f.kind === 'boolean' || f.kind === 'integer' || f.kind === 'number') return 'REG_DWORD';
  return isMultiText(f) ? 'REG_MULTI_SZ' : 'REG_SZ';
}

/** The explain text: the description, then the allowed values, the default and where it is written. */
export function explainText(f: PolicyField): string {
  const lines = [f.description, ''];
  const allowed = allowedText(f);
  if (allowed) lines.push(`Allowed: ${allowed}.`);
  if (f.kind === 'list') lines.push('Enter one entry per line.');
  else if (isMultiText(f)) lines.push('Each line of the box is one line of the text (empty lines are dropped).');
  lines.push(`Not configured: ${shownValue(f, f.default)}.`);
  lines.push(`Registry: HKLM or HKCU\\${keyOf(f)}, value ${f.name} (${registryType(f)}); the computer setting wins.`);
  return lines.join('\n');
}

function element(f: PolicyField): string {
  const id = escapeAttr(f.name);
  const maxLength = f.maxLength !== undefined ? ` maxLength="${f.maxLength}"` : '';
  switch (f.kind) {
    case 'integer':
    case 'number': {
      const { min, max } = wholeRange(f);
      const hi = Math.min(max ?? DWORD_MAX, DWORD_MAX);
      return `<decimal id="${id}" valueName="${id}" required="true" minValue="${min}" maxValue="${hi}" />`;
    }
    case 'enum': {
      const items = (f.values ?? []).map(
        (v) =>
          `          <item displayName="$(string.${itemId(f, v)})">\n` +
          `            <value><string>${escapeText(v)}</string></value>\n          </item>`,
      );
      return `<enum id="${id}" valueName="${id}" required="true">\n${items.join('\n')}\n        </enum>`;
    }
    case 'string':
    case 'list':
      return isMultiText(f)
        ? `<multiText id="${id}" valueName="${id}" required="true"${maxLength} />`
        : `<text id="${id}" valueName="${id}" required="true"${maxLength} />`;
    default:
      throw new Error(`no ADMX element for ${f.kind}`);
  }
}

function policy(f: PolicyField): string {
  const name = policyName(f);
  const head =
    `    <policy name="${name}" class="${ADMX_CLASS}" displayName="$(string.${name})" ` +
    `explainText="$(string.${name}_Explain)" key="${escapeAttr(keyOf(f))}"`;
  const refs = `      <parentCategory ref="${categoryOf(f)}" />\n      <supportedOn ref="${SUPPORTED}" />\n`;
  if (f.kind === 'boolean') {
    return (
      `${head} valueName="${escapeAttr(f.name)}">\n${refs}` +
      `      <enabledValue><decimal value="1" /></enabledValue>\n` +
      `      <disabledValue><decimal value="0" /></disabledValue>\n    </policy>`
    );
  }
  return (
    `${head} presentation="$(presentation.${name})">\n${refs}` +
    `      <elements>\n        ${element(f)}\n      </elements>\n    </policy>`
  );
}

export function renderAdmx(entries: readonly PolicyEntry[]): string {
  const groups = entries.filter((e) => e.kind === 'group');
  const fields = entries.flatMap((e) => (e.kind === 'group' ? e.fields : [e]));
  const categories = [
    `    <category name="${ROOT_CATEGORY}" displayName="$(string.${ROOT_CATEGORY})" />`,
    ...groups.map(
      (g) =>
        `    <category name="${ROOT_CATEGORY}_${g.name}" displayName="$(string.${ROOT_CATEGORY}_${g.name})" ` +
        `explainText="$(string.${ROOT_CATEGORY}_${g.name}_Explain)">\n` +
        `      <parentCategory ref="${ROOT_CATEGORY}" />\n    </category>`,
    ),
  ];
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<!-- Generated from main/policy/schema.ts by `npm run policy:templates`. Do not edit. -->',
    '<policyDefinitions xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" revision="1.0" schemaVersion="1.0" xmlns="http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions">',
    '  <policyNamespaces>',
    `    <target prefix="${PREFIX}" namespace="${PREFIX}.Policies.${PREFIX}" />`,
    '  </policyNamespaces>',
    '  <resources minRequiredRevision="1.0" />',
    '  <supportedOn>',
    '    <definitions>',
    `      <definition name="${SUPPORTED}" displayName="$(string.${SUPPORTED})" />`,
    '    </definitions>',
    '  </supportedOn>',
    '  <categories>',
    ...categories,
    '  </categories>',
    '  <policies>',
    ...fields.map(policy),
    '  </policies>',
    '</policyDefinitions>',
    '',
  ].join('\n');
}

function presentation(f: PolicyField): string | null {
  const name = policyName(f);
  const label = escapeText(f.title);
  let body: string;
  if (f.kind === 'boolean') return null;
  if (f.kind === 'integer' || f.kind === 'number') {
    const def = typeof f.default === 'number' ? ` defaultValue="${f.default}"` : '';
    body = `<decimalTextBox refId="${f.name}"${def}>${label}</decimalTextBox>`;
  } else if (f.kind === 'enum') {
    const index = typeof f.default === 'string' ? (f.values?.indexOf(f.default) ?? -1) : -1;
    const def = index >= 0 ? ` defaultItem="${index}"` : '';
    body = `<dropdownList refId="${f.name}" noSort="true"${def}>${label}</dropdownList>`;
  } else if (isMultiText(f)) {
    body = `<multiTextBox refId="${f.name}">${label}</multiTextBox>`;
  } else {
    const def = typeof f.default === 'string' ? `<defaultValue>${escapeText(f.default)}</defaultValue>` : '';
    body = `<textBox refId="${f.name}"><label>${label}</label>${def}</textBox>`;
  }
  return `      <presentation id="${name}">\n        ${body}\n      </presentation>`;
}

const str = (id: string, text: string): string => `      <string id="${id}">${escapeText(text)}</string>`;

export function renderAdml(entries: readonly PolicyEntry[]): string {
  const strings = [str(ROOT_CATEGORY, 'Clinic Messenger'), str(SUPPORTED, 'Clinic Messenger 0.1 and later')];
  const presentations: string[] = [];
  for (const e of entries) {
    if (e.kind === 'group') {
      strings.push(str(`${ROOT_CATEGORY}_${e.name}`, e.title));
      strings.push(str(`${ROOT_CATEGORY}_${e.name}_Explain`, e.description));
    }
    for (const f of e.kind === 'group' ? e.fields : [e]) {
      const name = policyName(f);
      strings.push(str(name, e.kind === 'group' ? `${e.title}: ${f.title}` : f.title));
      strings.push(str(`${name}_Explain`, explainText(f)));
      for (const v of f.values ?? []) strings.push(str(itemId(f, v), v));
      const p = presentation(f);
      if (p) presentations.push(p);
    }
  }
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<!-- Generated from main/policy/schema.ts by `npm run policy:templates`. Do not edit. -->',
    '<policyDefinitionResources xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" revision="1.0" schemaVersion="1.0" xmlns="http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions">',
    '  <displayName>Clinic Messenger</displayName>',
    '  <description>Managed policy for Clinic Messenger, generated from its policy schema.</description>',
    '  <resources>',
    '    <stringTable>',
    ...strings,
    '    </stringTable>',
    '    <presentationTable>',
    ...presentations,
    '    </presentationTable>',
    '  </resources>',
    '</policyDefinitionResources>',
    '',
  ].join('\n');
}
