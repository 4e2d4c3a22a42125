import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
const out = mkdtempSync(join(tmpdir(), 'ox-bundle-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('decrypt pool from an esbuild CommonJS bundle', () => {
  it('finds decrypt-worker.cjs beside the bundle and decrypts in worker threads', async () => {
    // Same shape as scripts/build-main.mjs: main bundle + each *-worker.ts as its own .cjs beside it.
    const entry = join(out, 'entry.ts');
    writeFileSync(
      entry,
      `import { generateIdentity, loadIdentity, parseContactKey, signcrypt, createDecryptPool, resolveDecryptWorker } from ${JSON.stringify(join(root, 'main/crypto/index'))};
      (async () => {
        const a = await loadIdentity((await generateIdentity('alice@clinic.test')).armoredSecretKey);
        const b = await loadIdentity((await generateIdentity('bob@clinic.test')).armoredSecretKey);
        const ak = await parseContactKey(a.bareJid, a.publicKeyBinary, a.fingerprint);
        const bk = await parseContactKey(b.bareJid, b.publicKeyBinary, b.fingerprint);
        const now = new Date();
        const jobs = await Promise.all([1, 2, 3].map(async (i) => ({ senderKey: ak, ourJid: b.bareJid, now,
          base64: await signcrypt({ identity: a, recipients: [bk], to: b.bareJid, body: 'n' + i, now }) })));
        const pool = createDecryptPool({ identity: b, mode: 'threads', size: 2 });
        const res = await pool.openMany(jobs);
        await pool.close();
        console.log(JSON.stringify({ where: resolveDecryptWorker(), bodies: res.map((r) => r.ok ? r.value.body : r.reason) }));
      })();`,
    );
    await build({
      entryPoints: [
        { in: entry, out: 'index' },
        { in: join(root, 'main/crypto/decrypt-worker.ts'), out: 'decrypt-worker' },
      ],
      outdir: out,
      outExtension: { '.js': '.cjs' },
      bundle: true,
      format: 'cjs',
      platform: 'node',
      logLevel: 'error',
      banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
      define: { 'import.meta.url': '__importMetaUrl' },
    });
    const stdout = execFileSync(process.execPath, [join(out, 'index.cjs')], { timeout: 30_000 }).toString();
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
      where: { file: string; tsx: boolean };
      bodies: string[];
    };
    expect(result.where).toEqual({ file: join(out, 'decrypt-worker.cjs'), tsx: false });
    expect(result.bodies).toEqual(['n1', 'n2', 'n3']);
  }, 60_000);
});
