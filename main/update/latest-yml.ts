/**
 * Reads the `latest.yml` (`latest-mac.yml`, `latest-linux.yml`) electron-builder writes next to
 * the installers. Only the flat subset electron-builder emits is understood — scalars at the top,
 * and `files:` as a list of flat maps; anything else is a FeedFormatError, never a guess. A small
 * reader of our own keeps the runtime free of a YAML dependency (`yaml` is a dev dependency).
 */

export interface FeedFile {
  url: string;
  /** base64 SHA-512 of the file, as electron-builder writes it. */
  sha512: string;
  size: number | null;
}

export interface FeedManifest {
  version: string;
  files: FeedFile[];
  /** The main artifact (older feeds); `files[0]` when absent. */
  path: string | null;
  sha512: string | null;
  releaseDate: string | null;
}

export class FeedFormatError extends Error {
  override readonly name = 'FeedFormatError';
}

function scalar(raw: string): string {
  const v = raw.trim();
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1).replace(/''/g, "'");
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1);
  return v;
}

const PAIR = /^([A-Za-z][A-Za-z0-9_]*):(?:\s+(.*))?$/;

function pair(text: string, lineNo: number): [string, string] {
  const m = PAIR.exec(text);
  if (!m) throw new FeedFormatError(`line ${lineNo}: expected "key: value"`);
  return [m[1]!, scalar(m[2] ?? '')];
}

function toFile(entry: Map<string, string>, index: number): FeedFile {
  const url = entry.get('url');
  if (!url) throw new FeedFormatError(`files[${index}] has no url`);
  const size = entry.get('size');
  return { url, sha512: entry.get('sha512') ?? '', size: size && /^\d+$/.test(size) ? Number(size) : null };
}

export function parseLatestYml(text: string): FeedManifest {
  const top = new Map<string, string>();
  const entries: Map<string, string>[] = [];
  let inFiles = false;
  text.split(/\r?\n/).forEach((line, i) => {
    const lineNo = i + 1;
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const item = /^\s+-\s+(.*)$/.exec(line);
    if (inFiles && item) {
      entries.push(new Map([pair(item[1]!, lineNo)]));
    } else if (inFiles && /^\s+\S/.test(line) && entries.length > 0) {
      const [k, v] = pair(line.trim(), lineNo);
      entries.at(-1)!.set(k, v);
    } else if (/^\S/.test(line)) {
      const [k, v] = pair(line, lineNo);
      inFiles = k === 'files' && v === '';
      if (!inFiles) top.set(k, v);
    } else {
      throw new FeedFormatError(`line ${lineNo}: unexpected indentation`);
    }
  });
  const version = top.get('version');
  if (!version) throw new FeedFormatError('no version');
  return {
    version,
    files: entries.map(toFile),
    path: top.get('path') || null,
    sha512: top.get('sha512') || null,
    releaseDate: top.get('releaseDate') || null,
  };
}

/** The file the update installs: the one named by `path`, else the first in `files`. */
export function mainFile(feed: FeedManifest): FeedFile | null {
  const named = feed.path ? feed.files.find((f) => f.url === feed.path) : undefined;
  if (named) return named;
  if (feed.files[0]) return feed.files[0];
  return feed.path && feed.sha512 ? { url: feed.path, sha512: feed.sha512, size: null } : null;
}

/** A SHA-512 in base64 is exactly 64 bytes; anything else cannot have come from electron-builder. */
export function isSha512Base64(value: string): boolean {
  return /^[A-Za-z0-9+/]{86}==$/.test(value) && Buffer.from(value, 'base64').length === 64;
}
