/**
 * The project's own documentation stays inside the repository (issue 11 item 11): every Markdown
 * link and image in README.md and docs/*.md that is not an external http(s) address must name a
 * file or folder that exists in this repository — a user's clone has nothing beside it — and a
 * `#fragment` on a Markdown target must name one of that file's headings (GitHub's anchors).
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = realpathSync(fileURLToPath(new URL('../..', import.meta.url)));

interface MdLink {
  target: string;
  line: number;
}

/** Code (fenced blocks, inline spans) blanked out, line breaks kept, so line numbers stay right. */
function withoutCode(md: string): string {
  const fenced = md.replace(/^( {0,3})(```|~~~)[^\n]*\n[\s\S]*?^\1\2[^\n]*$/gm, (block) =>
    block.replace(/[^\n]/g, ' '),
  );
  return fenced.replace(/(`+)[^`\n][\s\S]*?\1/g, (span) => span.replace(/[^\n]/g, ' '));
}

/** `(target "title")` after a link's text; the target may be wrapped in <>. */
const DEST = String.raw`\(\s*(<[^>\n]*>|[^\s)]+)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)`;
/** Link text may hold one level of brackets: an image inside a link, `[![badge](b.svg)](page.md)`. */
const INLINE = new RegExp(String.raw`!?\[(?:[^[\]\\]|\\.|\[(?:[^\]\\]|\\.)*\])*\]` + DEST, 'g');
const IMAGE = new RegExp(String.raw`!\[(?:[^\]\\]|\\.)*\]` + DEST, 'g');
const REFERENCE = /^ {0,3}\[[^\]\n]+\]:\s*(<[^>\n]*>|\S+)/gm;

/** Inline links and images `[text](target "title")` and reference definitions `[id]: target`, in order. */
function markdownLinks(md: string): MdLink[] {
  const text = withoutCode(md);
  const lineAt = (index: number) => text.slice(0, index).split('\n').length;
  const found = new Map<number, string>(); // by position: an image is found by INLINE and IMAGE alike
  for (const re of [INLINE, IMAGE, REFERENCE]) {
    for (const m of text.matchAll(re)) found.set(m.index, m[1]!.replace(/^<|>$/g, ''));
  }
  return [...found.entries()].sort(([a], [b]) => a - b).map(([index, target]) => ({ target, line: lineAt(index) }));
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(md: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of withoutCode(md).matchAll(/^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const plain = m[1]!.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[*_`]/g, '');
    const slug = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** Why a link target in `fromFile` is not acceptable, or null. External http(s) links pass. */
function linkProblem(fromFile: string, target: string, root: string = ROOT): string | null {
  if (/^https?:\/\//i.test(target)) return null;
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return `scheme not allowed: ${target}`;
  const [rawPath = '', fragment] = target.split('#', 2) as [string, string | undefined];
  const path = decodeURIComponent(rawPath);
  if (isAbsolute(path) || path.startsWith('/')) return `absolute path: ${target}`;
  const resolved = path === '' ? fromFile : resolve(dirname(fromFile), path);
  const rel = relative(root, resolved);
  if (rel.startsWith('..') || isAbsolute(rel)) return `outside the repository: ${target}`;
  if (!existsSync(resolved)) return `no such file: ${target}`;
  // A symlink in the repository could still lead out of it.
  const real = relative(root, realpathSync(resolved));
  if (real.startsWith('..') || isAbsolute(real)) return `outside the repository: ${target}`;
  if (fragment && resolved.endsWith('.md') && statSync(resolved).isFile()) {
    if (!headingAnchors(readFileSync(resolved, 'utf8')).has(fragment.toLowerCase()))
      return `no heading #${fragment} in ${rel}`;
  }
  return null;
}

/** README.md, docs/*.md and the IT guide's pages, docs/deploy/*.md. */
function documents(): string[] {
  const mdIn = (dir: string) =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.md'))
          .map((f) => join(dir, f))
      : [];
  return [join(ROOT, 'README.md'), ...mdIn(join(ROOT, 'docs')), ...mdIn(join(ROOT, 'docs', 'deploy'))];
}

describe('link checker', () => {
  it('finds inline links, images and reference definitions, not links inside code', () => {
    const md =
      '[a](docs/a.md) ![b](<docs/b c.png> "t")\n`[x](nope.md)`\n```\n[y](nope.md)\n```\n[ref]: main/core.ts\n[![badge](img.png)](target.md)\n';
    expect(markdownLinks(md)).toEqual([
      { target: 'docs/a.md', line: 1 },
      { target: 'docs/b c.png', line: 1 },
      { target: 'main/core.ts', line: 6 },
      { target: 'target.md', line: 7 },
      { target: 'img.png', line: 7 },
    ]);
  });

  it('refuses targets outside the repository, missing files, unknown anchors and odd schemes', () => {
    const readme = join(ROOT, 'README.md');
    expect(linkProblem(readme, '../shared/design/HIPAA.md')).toMatch(/outside the repository/);
    expect(linkProblem(join(ROOT, 'docs', 'x.md'), '../../etc/passwd')).toMatch(/outside the repository/);
    expect(linkProblem(readme, '/etc/passwd')).toMatch(/absolute/);
    expect(linkProblem(readme, 'docs/no-such-file.md')).toMatch(/no such file/);
    expect(linkProblem(readme, 'README.md#no-such-heading')).toMatch(/no heading/);
    expect(linkProblem(readme, 'javascript:alert(1)')).toMatch(/scheme/);
    expect(linkProblem(readme, 'main/core.ts')).toBeNull();
    expect(linkProblem(readme, 'https://xmpp.org/extensions/xep-0373.html')).toBeNull();
  });

  it('makes GitHub heading anchors', () => {
    expect([...headingAnchors('# Security model\n## 45 CFR §164.312(b): audit\n## Keys\n## Keys\n')]).toEqual([
      'security-model',
      '45-cfr-164312b-audit',
      'keys',
      'keys-1',
    ]);
  });
});

describe('README.md and docs/*.md', () => {
  it('have docs to check: the README and the four guides', () => {
    const names = documents().map((f) => relative(ROOT, f).split(sep).join('/'));
    expect(names).toEqual(
      expect.arrayContaining([
        'README.md',
        'docs/architecture.md',
        'docs/security-model.md',
        'docs/hipaa.md',
        'docs/deployment.md',
        'docs/deploy/README.md',
        'docs/deploy/windows.md',
      ]),
    );
  });

  it('link only to files inside the repository (external http(s) links are listed)', () => {
    const problems: string[] = [];
    const external: string[] = [];
    for (const file of documents()) {
      for (const { target, line } of markdownLinks(readFileSync(file, 'utf8'))) {
        const where = `${relative(ROOT, file)}:${line}`;
        if (/^https?:\/\//i.test(target)) external.push(`${where} ${target}`);
        const problem = linkProblem(file, target);
        if (problem) problems.push(`${where} ${problem}`);
      }
    }
    if (external.length) console.info(`external links (not checked):\n${external.join('\n')}`);
    expect(problems).toEqual([]);
  });
});
