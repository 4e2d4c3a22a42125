/**
 * Silent per-machine MSI installs (issue 14 item 4): scripts/msi-policy-fragment.cjs turns public
 * MSI properties into HKLM policy values through a WiX fragment added by electron-builder's
 * msiProjectCreated hook. Checked here: the fragment is well-formed, each property maps to the value
 * name, type and key windows.ts reads and the schema accepts (through the real reader), the values
 * are remembered for repair and upgrade, and the hook extends a project rendered from
 * electron-builder's own MSI template. WiX itself (candle/light) runs only on Windows: not here.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { childElements, parseXml, textOf, type XmlElement } from '../../main/crypto/xml';
import { defaultPolicy, policySchema } from '../../main/policy/schema';
import { POLICY_REGISTRY_KEY, registryPolicy, type WindowsCommand } from '../../main/policy/windows';

interface MsiProperty {
  property: string;
  sub: string | null;
  name: string;
  type: 'string' | 'integer';
}
const require = createRequire(import.meta.url);
const msi = require('../../scripts/msi-policy-fragment.cjs') as {
  MSI_POLICY_PROPERTIES: MsiProperty[];
  POLICY_KEY: string;
  REMEMBER_KEY: string;
  policyFragment(): string;
  insertPolicyFragment(wxs: string): string;
  msiProjectCreated(projectFile: string): Promise<void>;
};

const LIMITS = { maxDepth: 32, maxNodes: 20_000 };
const WIX_NS = 'http://wixtoolset.org/schemas/v4/wxs';
const fragmentDoc = (): XmlElement =>
  parseXml(`<Wix xmlns="${WIX_NS}">${msi.policyFragment()}</Wix>`, LIMITS).children[0] as never;

/** Every element below `el`, depth first. */
function all(el: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  const walk = (e: XmlElement): void => {
    if (e.name === name) found.push(e);
    for (const c of e.children) if (typeof c !== 'string') walk(c);
  };
  walk(el);
  return found;
}
const byId = (el: XmlElement, name: string, id: string): XmlElement => {
  const hits = all(el, name).filter((e) => e.attrs.Id === id);
  expect(hits, `${name} ${id}`).toHaveLength(1);
  return hits[0] as XmlElement;
};

const REG_TYPE = { string: 'REG_SZ', integer: 'REG_DWORD' } as const;
/** What each property must become: [registry key under HKLM, value name, registry type]. */
const EXPECTED: Record<string, [string, string, 'REG_SZ' | 'REG_DWORD']> = {
  SERVER_DOMAIN: ['Software\\Policies\\ClinicMessenger\\server', 'domain', 'REG_SZ'],
  SERVER_HOST: ['Software\\Policies\\ClinicMessenger\\server', 'host', 'REG_SZ'],
  SERVER_PORT: ['Software\\Policies\\ClinicMessenger\\server', 'port', 'REG_DWORD'],
  SERVER_TLS: ['Software\\Policies\\ClinicMessenger\\server', 'tls', 'REG_SZ'],
  UPDATE_FEED_URL: ['Software\\Policies\\ClinicMessenger', 'updateFeedUrl', 'REG_SZ'],
  DISABLE_AUTO_UPDATES: ['Software\\Policies\\ClinicMessenger', 'updatesDisabled', 'REG_DWORD'],
  LOCK_TIMEOUT_MINUTES: ['Software\\Policies\\ClinicMessenger', 'lockTimeoutMaxMinutes', 'REG_DWORD'],
};
/** A sample command line: msiexec /i … /qn SERVER_DOMAIN=… (values as IT types them). */
const SAMPLE: Record<string, string> = {
  SERVER_DOMAIN: 'clinic.example.org',
  SERVER_HOST: 'xmpp.clinic.example.org',
  SERVER_PORT: '5223',
  SERVER_TLS: 'direct',
  UPDATE_FEED_URL: 'https://updates.clinic.example.org/clinic-messenger/win/x64',
  DISABLE_AUTO_UPDATES: '1',
  LOCK_TIMEOUT_MINUTES: '3',
};

/** The registry value each conditional component writes (its KeyPath), per property. */
function policyValues(doc: XmlElement): Map<string, { key: string; name: string; type: string; value: string }> {
  const out = new Map<string, { key: string; name: string; type: string; value: string }>();
  for (const comp of all(doc, 'Component')) {
    const [condition] = childElements(comp, 'Condition');
    const policy = childElements(comp, 'RegistryValue').filter((r) => r.attrs.KeyPath === 'yes');
    expect(policy).toHaveLength(1);
    const r = policy[0] as XmlElement;
    expect(r.attrs.Root).toBe('HKLM');
    out.set(textOf(condition as XmlElement), {
      key: r.attrs.Key as string,
      name: r.attrs.Name as string,
      type: r.attrs.Type as string,
      value: r.attrs.Value as string,
    });
  }
  return out;
}

describe('the MSI policy fragment', () => {
  it('is well-formed WiX with one conditional component per property', () => {
    const doc = fragmentDoc();
    expect(doc.name).toBe('Fragment');
    expect(doc.ns).toBe(WIX_NS);
    const props = msi.MSI_POLICY_PROPERTIES.map((p) => p.property);
    expect([...props].sort()).toEqual(Object.keys(EXPECTED).sort());
    // Public properties: upper case, and Secure so a per-machine install passes them to the server side.
    for (const p of props) expect(byId(doc, 'Property', p).attrs.Secure).toBe('yes');
    expect(
      childElements(byId(doc, 'ComponentGroup', 'ManagedPolicyComponents'), 'ComponentRef').map((c) => c.attrs.Id),
    ).toEqual(props.map((p) => `Policy_${p}`));
  });

  it('maps each property to the value name, type and key windows.ts reads, written only when set', () => {
    const values = policyValues(fragmentDoc());
    expect([...values.keys()].sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const [prop, [key, name, type]] of Object.entries(EXPECTED)) {
      const v = values.get(prop);
      expect(v, prop).toBeDefined();
      expect({ key: v!.key, name: v!.name, type: REG_TYPE[v!.type as 'string' | 'integer'] }, prop).toEqual({
        key,
        name,
        type,
      });
      expect(v!.value).toBe(`[${prop}]`);
      expect(`HKLM\\${key}`.startsWith(POLICY_REGISTRY_KEY)).toBe(true);
    }
  });

  it('writes values the real Windows reader turns into a policy the schema accepts', () => {
    // What reg.exe prints after `msiexec /qn` with SAMPLE: the fragment's own keys, names and types.
    const byKey = new Map<string, string[]>();
    for (const [prop, v] of policyValues(fragmentDoc())) {
      const raw = SAMPLE[prop] as string;
      const data = v.type === 'integer' ? `0x${Number(raw).toString(16)}` : raw;
      const line = `    ${v.name}    ${REG_TYPE[v.type as 'string' | 'integer']}    ${data}`;
      byKey.set(v.key, [...(byKey.get(v.key) ?? []), line]);
    }
    const stdout = [...byKey]
      .sort(([a], [b]) => a.length - b.length)
      .map(([key, lines]) => `HKEY_LOCAL_MACHINE\\${key}\r\n${lines.join('\r\n')}\r\n`)
      .join('\r\n');
    const run: WindowsCommand = (tool, args) =>
      tool === 'reg' && args[1] === POLICY_REGISTRY_KEY ? { code: 0, stdout } : { code: 1, stdout: '' };
    const policy = policySchema.parse(registryPolicy(run, defaultPolicy));
    expect(policy.server).toEqual({
      domain: 'clinic.example.org',
      host: 'xmpp.clinic.example.org',
      port: 5223,
      tls: 'direct',
    });
    expect(policy.updateFeedUrl).toBe(SAMPLE.UPDATE_FEED_URL);
    expect(policy.updatesDisabled).toBe(true);
    expect(policy.lockTimeoutMaxMinutes).toBe(3);
  });

  it('remembers each property outside the policy key, and a command-line value wins', () => {
    const doc = fragmentDoc();
    for (const p of msi.MSI_POLICY_PROPERTIES) {
      const [search] = childElements(byId(doc, 'Property', p.property), 'RegistrySearch');
      expect(search?.attrs).toMatchObject({ Root: 'HKLM', Key: msi.REMEMBER_KEY, Name: p.property, Type: 'raw' });
      const comp = byId(doc, 'Component', `Policy_${p.property}`);
      // The remembered copy is text, so a raw search of it gives back exactly what was typed.
      expect(childElements(comp, 'RegistryValue').map((r) => r.attrs)).toContainEqual({
        Root: 'HKLM',
        Key: msi.REMEMBER_KEY,
        Name: p.property,
        Type: 'string',
        Value: `[${p.property}]`,
      });
      expect(byId(doc, 'CustomAction', `Save_${p.property}`).attrs).toMatchObject({
        Property: `CMDLINE_${p.property}`,
        Value: `[${p.property}]`,
      });
      expect(byId(doc, 'CustomAction', `Restore_${p.property}`).attrs).toMatchObject({
        Property: p.property,
        Value: `[CMDLINE_${p.property}]`,
      });
      for (const seq of ['InstallUISequence', 'InstallExecuteSequence']) {
        const customs = childElements(all(doc, seq)[0] as XmlElement, 'Custom');
        expect(customs.find((c) => c.attrs.Action === `Save_${p.property}`)?.attrs.Before).toBe('AppSearch');
        const restore = customs.find((c) => c.attrs.Action === `Restore_${p.property}`) as XmlElement;
        expect(restore.attrs.After).toBe('AppSearch');
        expect(textOf(restore)).toBe(`CMDLINE_${p.property}`);
      }
    }
    // The policy schema is strict: the remembered copies must not land in the key the app reads.
    expect(`HKLM\\${msi.REMEMBER_KEY}`.toLowerCase().startsWith(POLICY_REGISTRY_KEY.toLowerCase())).toBe(false);
  });

  it('gives every component a fixed, distinct GUID', () => {
    const guids = all(fragmentDoc(), 'Component').map((c) => c.attrs.Guid);
    for (const g of guids) expect(g).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
    expect(new Set(guids).size).toBe(guids.length);
    expect(all(fragmentDoc(), 'Component').map((c) => c.attrs.Guid)).toEqual(guids);
  });

  it('refuses an install with server settings but no SERVER_DOMAIN (launch condition)', () => {
    const [condition] = childElements(fragmentDoc(), 'Condition');
    expect(condition?.attrs.Message).toMatch(/SERVER_DOMAIN is required/);
    expect(textOf(condition as XmlElement)).toBe(
      'Installed OR SERVER_DOMAIN OR NOT (SERVER_HOST OR SERVER_PORT OR SERVER_TLS)',
    );
  });
});

/** project.wxs as electron-builder 26 renders it (MsiTarget.ts: its template, through ejs). */
function renderElectronBuilderProject(): string {
  const builderRequire = createRequire(require.resolve('app-builder-lib/package.json'));
  const ejs = builderRequire('ejs') as { compile(t: string): (data: Record<string, unknown>) => string };
  const templatePath = join(dirname(require.resolve('app-builder-lib/package.json')), 'templates/msi/template.xml');
  const template = readFileSync(templatePath, 'utf8')
    .replace(/{{/g, '<%')
    .replace(/}}/g, '%>')
    .replace(/\${([^}]+)}/g, '<%=$1%>');
  return ejs.compile(template)({
    productName: 'Clinic Messenger',
    upgradeCode: '6F1C3B2E-8A4D-4C1B-9F2E-3D7A5B9C0E14',
    version: '1.0.0.0',
    manufacturer: 'Clinic Messenger engineering',
    compressionLevel: 'high',
    iconPath: null,
    iconId: 'ClinicMessengerIcon.exe',
    isRunAfterFinish: true,
    isAssisted: true,
    isPerMachine: true,
    isCreateDesktopShortcut: true,
    isCreateStartMenuShortcut: true,
    menuCategory: null,
    programFilesId: 'ProgramFiles64Folder',
    installationDirectoryWixName: 'Clinic Messenger',
    dirs: '\n    <Directory Id="dabc" Name="APPLICATIONFOLDER:\\resources\\"/>',
    files:
      '\n      <Component>\n        <File Name="Clinic Messenger.exe" Source="$(var.appDir)\\Clinic Messenger.exe" ReadOnly="yes" KeyPath="yes" Id="mainExecutable"/>\n      </Component>' +
      '\n      <Component Directory="dabc">\n        <File Name="app.asar" Source="$(var.appDir)\\resources\\app.asar" ReadOnly="yes" KeyPath="yes"/>\n      </Component>',
  });
}

describe('the msiProjectCreated hook', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('adds the fragment to electron-builder’s generated project and references it from the feature', () => {
    const original = renderElectronBuilderProject();
    const before = parseXml(original, LIMITS);
    const wix = parseXml(msi.insertPolicyFragment(original), LIMITS);
    expect(wix.name).toBe('Wix');
    const [product] = childElements(wix, 'Product');
    const [fragment] = childElements(wix, 'Fragment');
    expect(product && fragment).toBeTruthy();
    const feature = byId(product as XmlElement, 'Feature', 'ProductFeature');
    expect(childElements(feature, 'ComponentGroupRef').map((r) => r.attrs.Id)).toEqual([
      'ManagedPolicyComponents',
      'ProductComponents',
    ]);
    expect(childElements(fragment as XmlElement, 'ComponentGroup')[0]?.attrs.Id).toBe('ManagedPolicyComponents');
    // Nothing of electron-builder's project is lost: the same Product, element for element.
    expect(all(product as XmlElement, 'File')).toEqual(all(before, 'File'));
    expect(all(product as XmlElement, 'MajorUpgrade')).toEqual(all(before, 'MajorUpgrade'));
    expect(all(wix, 'Component')).toHaveLength(all(before, 'Component').length + msi.MSI_POLICY_PROPERTIES.length);
  });

  it('rewrites the project file in place, once, and refuses a project it does not recognise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msi-hook-'));
    dirs.push(dir);
    const file = join(dir, 'project.wxs');
    writeFileSync(file, renderElectronBuilderProject());
    await msi.msiProjectCreated(file);
    const once = readFileSync(file, 'utf8');
    await msi.msiProjectCreated(file);
    expect(readFileSync(file, 'utf8')).toBe(once);
    expect(once.match(/ManagedPolicyComponents/g)).toHaveLength(2); // the reference and the group
    expect(() => msi.insertPolicyFragment('<Wix><Product></Product></Wix>')).toThrow(/ProductFeature/);
  });

  it('is the hook electron-builder.yml names, with a fixed upgrade code', () => {
    const config = parse(readFileSync('electron-builder.yml', 'utf8')) as {
      msiProjectCreated: string;
      msi: { upgradeCode: string };
    };
    expect(require(join(process.cwd(), config.msiProjectCreated))).toBe(msi);
    // The product's upgrade code, fixed for its lifetime: a new one would make the next MSI a
    // separate product installed beside this one, not an upgrade of it (issue 14 item 4).
    expect(config.msi.upgradeCode.toLowerCase()).toBe('6f1c3b2e-8a4d-4c1b-9f2e-3d7a5b9c0e14');
  });
});
