// electron-builder msiProjectCreated hook (electron-builder.yml) and its pure parts (issue 14
// item 4): public MSI properties for a silent per-machine install, e.g.
//   msiexec /i ClinicMessenger.msi /qn SERVER_DOMAIN=clinic.example.org DISABLE_AUTO_UPDATES=1
// each written as the HKLM policy value main/policy/windows.ts reads (same key, name and type as
// the ADMX templates), only when the property is set (a component condition).
//
// Repair and upgrade keep them (the "remember property" pattern): each set property is also
// stored as text under REMEMBER_KEY, which the app never reads, and a RegistrySearch reads it back
// at the next install, repair or major upgrade; a value given on the command line wins. The
// remembered copy lives outside the policy key because the policy schema is strict (an unknown
// value there is an error) and because a raw registry search of a REG_DWORD returns "#5", which
// written back as an integer would become the text "##5".
//
// The clinic CA is not a property: an MSI cannot read a file's content into a registry value
// without a script custom action. Deploy it with the ADMX setting or the policy file.
//
// WiX dialect: electron-builder 26 runs candle/light of WiX 4.0.0.5512.2 (WiX 3 elements in the v4
// namespace), with -arch x64, so these components write the 64-bit registry view.
const { createHash } = require('node:crypto');
const { readFile, writeFile } = require('node:fs/promises');

const POLICY_KEY = 'Software\\Policies\\ClinicMessenger';
const REMEMBER_KEY = 'Software\\ClinicMessenger\\InstallProperties';

/**
 * Property → policy value. `sub` is the subkey windows.ts maps to a nested object (server);
 * `type` is WiX's: string → REG_SZ, integer → REG_DWORD.
 */
const MSI_POLICY_PROPERTIES = [
  { property: 'SERVER_DOMAIN', sub: 'server', name: 'domain', type: 'string' },
  { property: 'SERVER_HOST', sub: 'server', name: 'host', type: 'string' },
  { property: 'SERVER_PORT', sub: 'server', name: 'port', type: 'integer' },
  { property: 'SERVER_TLS', sub: 'server', name: 'tls', type: 'string' },
  { property: 'UPDATE_FEED_URL', sub: null, name: 'updateFeedUrl', type: 'string' },
  { property: 'DISABLE_AUTO_UPDATES', sub: null, name: 'updatesDisabled', type: 'integer' },
  { property: 'LOCK_TIMEOUT_MINUTES', sub: null, name: 'lockTimeoutMaxMinutes', type: 'integer' },
];

const FEATURE_REF = '<ComponentGroupRef Id="ManagedPolicyComponents"/>';

/** A fixed component GUID per value (name-based, RFC 4122 v5): component rules need it stable. */
const componentGuid = (key) => {
  const ns = Buffer.from('6f1c3b2e8a4d4c1b9f2e3d7a5b9c0e14', 'hex'); // the MSI upgrade code as namespace
  const h = createHash('sha1').update(ns).update(key).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex').toUpperCase();
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
};

const propertyXml = (p) => {
  const saved = `CMDLINE_${p.property}`;
  return [
    `    <Property Id="${p.property}" Secure="yes">`,
    `      <RegistrySearch Id="Remembered_${p.property}" Root="HKLM" Key="${REMEMBER_KEY}" Name="${p.property}" Type="raw"/>`,
    `    </Property>`,
    `    <CustomAction Id="Save_${p.property}" Property="${saved}" Value="[${p.property}]" Execute="firstSequence"/>`,
    `    <CustomAction Id="Restore_${p.property}" Property="${p.property}" Value="[${saved}]" Execute="firstSequence"/>`,
    `    <Component Id="Policy_${p.property}" Guid="${componentGuid(`${p.sub ?? ''}\\${p.name}`)}" Directory="TARGETDIR">`,
    `      <Condition>${p.property}</Condition>`,
    `      <RegistryValue Root="HKLM" Key="${p.sub ? `${POLICY_KEY}\\${p.sub}` : POLICY_KEY}" Name="${p.name}" Type="${p.type}" Value="[${p.property}]" KeyPath="yes"/>`,
    `      <RegistryValue Root="HKLM" Key="${REMEMBER_KEY}" Name="${p.property}" Type="string" Value="[${p.property}]"/>`,
    `    </Component>`,
  ];
};

const sequenceXml = (table) => {
  const lines = [`    <${table}>`];
  for (const p of MSI_POLICY_PROPERTIES) {
    lines.push(`      <Custom Action="Save_${p.property}" Before="AppSearch"/>`);
    lines.push(`      <Custom Action="Restore_${p.property}" After="AppSearch">CMDLINE_${p.property}</Custom>`);
  }
  lines.push(`    </${table}>`);
  return lines;
};

/** The WiX fragment: properties, their remembered copies, conditional components, one ComponentGroup. */
const policyFragment = () => {
  const serverProps = MSI_POLICY_PROPERTIES.filter((p) => p.sub === 'server' && p.name !== 'domain');
  return [
    '<Fragment>',
    '    <!-- Managed policy from MSI properties (scripts/msi-policy-fragment.cjs) -->',
    ...MSI_POLICY_PROPERTIES.flatMap(propertyXml),
    ...sequenceXml('InstallUISequence'),
    ...sequenceXml('InstallExecuteSequence'),
    // The schema needs the domain whenever another server value is set: refuse the install with a
    // clear message rather than install a policy the app would show as an error.
    `    <Condition Message="SERVER_DOMAIN is required when ${serverProps.map((p) => p.property).join(', ')} is set."><![CDATA[Installed OR SERVER_DOMAIN OR NOT (${serverProps.map((p) => p.property).join(' OR ')})]]></Condition>`,
    '    <ComponentGroup Id="ManagedPolicyComponents">',
    ...MSI_POLICY_PROPERTIES.map((p) => `      <ComponentRef Id="Policy_${p.property}"/>`),
    '    </ComponentGroup>',
    '  </Fragment>',
  ].join('\n');
};

/** Adds the fragment to a generated project.wxs and references it from the product's feature. */
const insertPolicyFragment = (wxs) => {
  const feature = /(<Feature\b[^>]*\bId="ProductFeature"[^>]*>)/;
  if (!feature.test(wxs) || !wxs.includes('</Product>'))
    throw new Error('msi-policy-fragment: the generated .wxs has no ProductFeature/Product to extend');
  if (wxs.includes(FEATURE_REF)) return wxs; // already added (the hook may run once per arch)
  return wxs.replace(feature, `$1\n      ${FEATURE_REF}`).replace('</Product>', `</Product>\n  ${policyFragment()}`);
};

/** electron-builder calls this with the path of the generated project.wxs, before candle runs. */
const msiProjectCreated = async (projectFile) => {
  await writeFile(projectFile, insertPolicyFragment(await readFile(projectFile, 'utf8')));
};

module.exports = {
  default: msiProjectCreated,
  msiProjectCreated,
  MSI_POLICY_PROPERTIES,
  POLICY_KEY,
  REMEMBER_KEY,
  policyFragment,
  insertPolicyFragment,
};
