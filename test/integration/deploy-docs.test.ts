/**
 * Every command of the IT guide (docs/deploy/*.md) that can run on Linux runs here (issue 14
 * item 6). A ```sh block right after the line `<!-- runs-in-test -->` is run, page by page in the
 * page's order, with `sh -e` as root, in a scratch folder that holds links to the repository's
 * files (the guide's commands run "from a clone"). System paths move into a temporary root:
 * `/etc/` and `/Library/` become `<root>/etc/` and `<root>/Library/`, and `sudo` is dropped (the
 * test is root already). A block that exits non-zero fails the test. An unmarked ```sh block must
 * be listed in NOT_RUNNABLE with the reason it cannot run here, so a new command is not forgotten.
 * scripts/check-policy.ts, which the guide uses to check a policy file, is tested below too.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GUIDE = join(ROOT, 'docs', 'deploy');
const MARK = '<!-- runs-in-test -->';

/** Unmarked sh blocks, by their first line, and why they cannot run on this machine. */
const NOT_RUNNABLE: Record<string, string> = {
  'sudo apt install ./clinic-messenger_1.2.0_amd64.deb': 'needs a built deb package',
  'clinic-messenger > /tmp/clinic-messenger.log 2>&1': 'starts the installed app',
  '"/Applications/Clinic Messenger.app/Contents/MacOS/Clinic Messenger" > /tmp/clinic-messenger.log 2>&1': 'macOS only',
  'sudo apt-get install -y prosody lua-dbi-sqlite3': 'installs system packages',
  'sudo install -o root -g prosody -m 0644 clinic.example.org.crt upload.clinic.example.org.crt /etc/prosody/certs/':
    "needs the clinic's certificates",
  'npx clinic-admin wipe alice@clinic.example --key it-admin-key.asc --send --as it-admin@clinic.example':
    "needs the clinic's server and admin key (test/integration/admin-cli.test.ts runs wipe --send against a real Prosody)",
  'npx clinic-admin provision users.csv --ejabberd-api http://127.0.0.1:5281/api':
    'needs an ejabberd server (test/integration/admin-ejabberd.test.ts runs provision, disable and lease against a real one)',
  'sudo npx clinic-admin rooms create ward-1 --group "Ward 1" --owner alice@clinic.example.org \\':
    "needs the clinic's running server and its admin account (test/integration/admin-rooms.test.ts runs rooms against a real Prosody)",
};

interface Block {
  file: string;
  line: number;
  code: string;
  runnable: boolean;
}

/** The ```sh blocks of a page; a marker must sit right before one (blank lines allowed). */
function shBlocks(file: string, md: string): Block[] {
  const lines = md.split('\n');
  const blocks: Block[] = [];
  let marked: number | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === MARK) {
      marked = i + 1;
      continue;
    }
    const fence = /^(```+|~~~+)\s*(\S*)/.exec(line);
    if (fence) {
      const close = lines.findIndex((l, j) => j > i && l.startsWith(fence[1] as string));
      if (close < 0) throw new Error(`${file}:${i + 1}: unclosed code block`);
      if (marked !== null && fence[2] !== 'sh') throw new Error(`${file}:${marked}: ${MARK} before a non-sh block`);
      if (fence[2] === 'sh')
        blocks.push({ file, line: i + 1, code: lines.slice(i + 1, close).join('\n'), runnable: marked !== null });
      marked = null;
      i = close;
      continue;
    }
    if (marked !== null && line.trim() !== '') throw new Error(`${file}:${marked}: ${MARK} is not followed by a block`);
  }
  if (marked !== null) throw new Error(`${file}:${marked}: ${MARK} at the end of the page`);
  return blocks;
}

const SYSTEM_PATH = /(^|[\s"'=:])\/(etc|Library|var|run|usr|opt|srv|home)\//m;

/** The block as it runs here: system folders under `root`, no sudo. Refuses other system paths. */
function adapt(code: string, root: string): string {
  const out = code.replace(/\bsudo\s+/g, '').replace(/(^|[\s"'=:])\/(etc|Library)\//gm, `$1${root}/$2/`);
  const left = SYSTEM_PATH.exec(out.split(root).join('<root>'));
  if (left) throw new Error(`the block writes or reads a system path this test does not move: ${left[0].trim()}`);
  return out;
}

function runBlock(code: string, cwd: string): { status: number | null; output: string } {
  const r = spawnSync('sh', ['-e', '-c', code], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** A temporary system root (0755: Prosody's user must reach its config) and a work folder "in the clone". */
function sandbox(): { root: string; work: string } {
  const root = mkdtempSync(join(tmpdir(), 'deploy-docs-'));
  scratch.push(root);
  chmodSync(root, 0o755);
  const work = join(root, 'work');
  mkdirSync(work);
  for (const entry of [
    'deploy',
    'resources',
    'scripts',
    'main',
    'common',
    'node_modules',
    'package.json',
    'tsconfig.json',
  ])
    symlinkSync(join(ROOT, entry), join(work, entry));
  return { root, work };
}

/**
 * server.md asks IT to edit the config's `-- site:` lines where their paths differ. Here they do:
 * the data folder, groups file, pid file and logs move into the root (the data folder owned by
 * prosody, as Debian's package makes /var/lib/prosody), so provision.sh registers its accounts in
 * the sandbox, never in the machine's /var/lib/prosody. Run after every block; idempotent.
 */
function moveProsodySitePaths(root: string): void {
  const config = join(root, 'etc', 'prosody', 'prosody.cfg.lua');
  if (!existsSync(config)) return;
  const text = readFileSync(config, 'utf8');
  const moved = text.replace(/^.*-- site:.*$/gm, (line) => line.replace(/"\/(var|etc|run)\//g, `"${root}/$1/`));
  writeFileSync(config, moved);
  const data = join(root, 'var', 'lib', 'prosody');
  const made = spawnSync('install', ['-d', '-o', 'prosody', '-g', 'prosody', '-m', '0750', data], { encoding: 'utf8' });
  expect(made.status, made.stderr).toBe(0);
}

/** What server.md's provisioning must leave behind, beyond exiting 0. */
function checkProvisioned(root: string, work: string): void {
  const passwords = join(work, 'initial-passwords.txt');
  expect(statSync(passwords).mode & 0o777).toBe(0o600);
  const lines = readFileSync(passwords, 'utf8').trim().split('\n');
  expect(lines.map((l) => l.split(' ')[0])).toEqual(['alice@clinic.example.org', 'bob@clinic.example.org']);
  const groups = join(root, 'etc', 'prosody', 'clinic-groups.txt');
  expect(readFileSync(groups, 'utf8')).toBe(
    '[+Physicians]\nalice@clinic.example.org=Dr Alice Moreau\n\n[+Reception]\nbob@clinic.example.org=Bob Tran\n\n' +
      '[Ward 1]\nalice@clinic.example.org=Dr Alice Moreau\n\n',
  );
  // Debian's Prosody runs as user prosody: a directory it cannot read is an empty directory.
  const readable = spawnSync('runuser', ['-u', 'prosody', '--', 'test', '-r', groups]);
  expect(readable.status, `${groups} is not readable by the prosody user`).toBe(0);
  // The store in WAL mode (its header's read and write versions are 2), and every file of it (a
  // -wal or -shm left beside it) the prosody user's, though provision ran as root.
  const data = join(root, 'var', 'lib', 'prosody');
  const header = readFileSync(join(data, 'prosody.sqlite')).subarray(18, 20);
  expect([...header]).toEqual([2, 2]);
  const prosodyUid = Number(spawnSync('id', ['-u', 'prosody'], { encoding: 'utf8' }).stdout.trim());
  for (const f of readdirSync(data).filter((n) => n.startsWith('prosody.sqlite')))
    expect(statSync(join(data, f)).uid, `${f} is not the prosody user's`).toBe(prosodyUid);
}

const pages = readdirSync(GUIDE)
  .filter((f) => f.endsWith('.md'))
  .sort();

describe('the block runner', () => {
  it('finds marked and unmarked sh blocks and refuses a stray marker', () => {
    const md = ['# x', MARK, '', '```sh', 'echo one', '```', '```sh', 'echo two', '```', '```bat', 'dir', '```'].join(
      '\n',
    );
    expect(shBlocks('x.md', md)).toEqual([
      { file: 'x.md', line: 4, code: 'echo one', runnable: true },
      { file: 'x.md', line: 7, code: 'echo two', runnable: false },
    ]);
    expect(() => shBlocks('x.md', `${MARK}\ntext\n`)).toThrow(/not followed by a block/);
    expect(() => shBlocks('x.md', `${MARK}\n\`\`\`bat\ndir\n\`\`\`\n`)).toThrow(/non-sh block/);
  });

  it('moves /etc and /Library into the root, drops sudo, refuses other system paths', () => {
    expect(adapt('sudo install -d /etc/x\ndir="/Library/A B"', '/tmp/r')).toBe(
      'install -d /tmp/r/etc/x\ndir="/tmp/r/Library/A B"',
    );
    expect(() => adapt('rm -rf /var/lib/prosody/x', '/tmp/r')).toThrow(/system path/);
  });

  it('fails on the first failing command of a block', () => {
    const dir = mkdtempSync(join(tmpdir(), 'deploy-docs-runner-'));
    scratch.push(dir);
    expect(runBlock('false\ntouch after', dir).status).not.toBe(0);
    expect(readdirSync(dir)).toEqual([]);
    expect(runBlock('exit 3', dir).status).toBe(3);
    expect(runBlock('true', dir).status).toBe(0);
  });
});

describe('docs/deploy: every command that can run on Linux', () => {
  it('runs as root, like CI: the guide installs files owned by root', () => {
    expect(process.getuid?.()).toBe(0);
  });

  it('has runnable blocks on the pages with Linux commands, and every other sh block is accounted for', () => {
    const counts: Record<string, number> = {};
    const unexplained: string[] = [];
    for (const page of pages) {
      const blocks = shBlocks(page, readFileSync(join(GUIDE, page), 'utf8'));
      counts[page] = blocks.filter((b) => b.runnable).length;
      for (const b of blocks.filter((x) => !x.runnable)) {
        const first = b.code.split('\n')[0] ?? '';
        if (!(first in NOT_RUNNABLE)) unexplained.push(`${b.file}:${b.line} ${first}`);
      }
    }
    // capacity.md: sizing on paper, no commands.
    expect(counts).toEqual({
      'README.md': 1,
      'capacity.md': 0,
      'linux.md': 3,
      'macos.md': 2,
      'server.md': 3,
      'windows.md': 0,
    });
    expect(unexplained).toEqual([]);
  });

  for (const page of pages) {
    const blocks = shBlocks(page, readFileSync(join(GUIDE, page), 'utf8')).filter((b) => b.runnable);
    if (blocks.length === 0) continue;
    it(`${page}: every runnable block exits 0, in order`, () => {
      const { root, work } = sandbox();
      for (const block of blocks) {
        const { status, output } = runBlock(adapt(block.code, root), work);
        expect(status, `docs/deploy/${block.file}:${block.line} failed:\n${output}`).toBe(0);
        if (page === 'server.md') moveProsodySitePaths(root);
      }
      if (page === 'server.md') checkProvisioned(root, work);
    });
  }
});

describe('scripts/check-policy.ts', () => {
  const check = (args: string[]) => {
    const r = spawnSync('npx', ['tsx', 'scripts/check-policy.ts', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  };

  it('says OK for a valid root-owned file, and refuses one every user can change, an invalid value and no file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'check-policy-'));
    scratch.push(dir);
    const file = resolve(dir, 'policy.json');
    writeFileSync(file, JSON.stringify({ notificationPreview: 'sender' }), { mode: 0o644 });
    expect(check([file])).toEqual({ status: 0, out: `OK: ${file}\n` });

    chmodSync(file, 0o666);
    const open = check([file]);
    expect(open.status).toBe(1);
    expect(open.out).toContain('is refused because a user who is not an administrator could change it');
    expect(open.out).toContain('can be changed by every user (mode 666)');

    chmodSync(file, 0o644);
    writeFileSync(file, JSON.stringify({ notificationPreview: 'everything' }));
    const invalid = check([file]);
    expect(invalid.status).toBe(1);
    expect(invalid.out).toMatch(/is invalid: notificationPreview: /);

    const missing = check([join(dir, 'none.json')]);
    expect(missing.status).toBe(1);
    expect(missing.out).toContain('does not exist');
  });

  it('--content-only accepts a draft its own (non-root) user owns; without it the same draft is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'check-policy-draft-'));
    scratch.push(dir);
    const file = join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify({ lockTimeoutMaxMinutes: 3 }), { mode: 0o644 });
    expect(spawnSync('chown', ['-R', 'nobody:', dir]).status).toBe(0);
    // The checker bundled into a folder `nobody` can read: the checkout itself may sit below a
    // folder only root can enter (a CI clone in a mktemp -d folder is one).
    const bin = mkdtempSync(join(tmpdir(), 'check-policy-bin-'));
    scratch.push(bin);
    chmodSync(bin, 0o755);
    const bundle = join(bin, 'check-policy.cjs');
    await build({
      entryPoints: [join(ROOT, 'scripts', 'check-policy.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: bundle,
      logLevel: 'silent',
    });
    chmodSync(bundle, 0o644);
    const asNobody = (args: string[]) => {
      const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, bundle, ...args], {
        cwd: bin,
        encoding: 'utf8',
        timeout: 120_000,
      });
      return { status: r.status, out: `${r.stdout}${r.stderr}` };
    };
    expect(asNobody(['--content-only', file])).toEqual({ status: 0, out: `OK: ${file}\n` });
    const deployed = asNobody([file]);
    expect(deployed.status).toBe(1);
    expect(deployed.out).toContain('not by an administrator (root)');
  });
});
