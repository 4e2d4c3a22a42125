/**
 * Reads the update feed the policy names, over https only: the public roots plus the clinic CA
 * from policy.trustedCaPem (as the XMPP connection trusts it, main/xmpp/transport/tls-trust.ts),
 * never NODE_EXTRA_CA_CERTS, and never a redirect to anything but https. `downloadVerified`
 * reports an artifact ready only once its SHA-512 equals the one latest.yml names.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { rootCertificates } from 'node:tls';
import type { Policy } from '../policy/schema';
import { decideUpdate, preflight, refused, type InstallKind, type UpdateDecision, type UpdatePolicy } from './decision';
import { FeedFormatError, parseLatestYml } from './latest-yml';

const MAX_REDIRECTS = 5;
const MAX_FEED_BYTES = 64 * 1024;
/** A silent server fails the check instead of hanging it; the next start checks again. */
const SOCKET_TIMEOUT_MS = 30_000;

export type FeedPolicy = UpdatePolicy & Pick<Policy, 'trustedCaPem'>;

export class FeedFetchError extends Error {
  override readonly name = 'FeedFetchError';
  constructor(
    readonly reason: 'feed-not-https' | 'feed-unreachable',
    message: string,
  ) {
    super(message);
  }
}

function caList(trustedCaPem: string | null): string[] {
  const pem = trustedCaPem?.trim();
  return pem ? [...rootCertificates, pem] : [...rootCertificates];
}

function get(url: URL, trustedCaPem: string | null, redirectsLeft = MAX_REDIRECTS): Promise<IncomingMessage> {
  if (url.protocol !== 'https:') {
    return Promise.reject(new FeedFetchError('feed-not-https', `refused a non-https address (${url.protocol})`));
  }
  return new Promise((resolve, reject) => {
    const req = request(url, {
      ca: caList(trustedCaPem),
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      agent: false,
      headers: { 'cache-control': 'no-cache' },
      timeout: SOCKET_TIMEOUT_MS,
    });
    req.on('timeout', () => req.destroy(new FeedFetchError('feed-unreachable', 'the update feed did not answer')));
    req.on('error', (err) => {
      reject(err instanceof FeedFetchError ? err : new FeedFetchError('feed-unreachable', errorText(err)));
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirectsLeft === 0) return reject(new FeedFetchError('feed-unreachable', 'too many redirects'));
        return resolve(get(new URL(res.headers.location, url), trustedCaPem, redirectsLeft - 1));
      }
      if (status !== 200) {
        res.resume();
        return reject(new FeedFetchError('feed-unreachable', `the update feed answered ${status}`));
      }
      resolve(res);
    });
    req.end();
  });
}

function errorText(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string'
    ? `the update feed could not be reached (${code})`
    : 'the update feed could not be reached';
}

/** `name` resolved against the feed folder (a feed URL without a trailing slash is a folder too). */
export function feedUrlFor(feedUrl: string, name: string): URL {
  return new URL(name, feedUrl.endsWith('/') ? feedUrl : `${feedUrl}/`);
}

export async function fetchFeedText(url: URL, trustedCaPem: string | null): Promise<string> {
  const res = await get(url, trustedCaPem);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FEED_BYTES) {
      res.destroy();
      throw new FeedFormatError('the update feed file is too large');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface CheckInput {
  policy: FeedPolicy;
  runningVersion: string;
  installKind: InstallKind;
  signatureVerified: boolean;
  /** latest.yml (Windows), latest-mac.yml, latest-linux.yml: electron-builder's channel file. */
  channelFile: string;
}

/** Fetches the channel file and decides; every failure is a refusal with a reason, never a throw. */
export async function checkFeed(input: CheckInput): Promise<UpdateDecision> {
  const early = preflight(input.policy);
  if (early) return early;
  try {
    const url = feedUrlFor(input.policy.updateFeedUrl!, input.channelFile);
    const feed = parseLatestYml(await fetchFeedText(url, input.policy.trustedCaPem));
    return decideUpdate({ ...input, feed });
  } catch (err) {
    if (err instanceof FeedFetchError) return refused(err.reason, err.message);
    if (err instanceof FeedFormatError) return refused('bad-feed', err.message);
    throw err;
  }
}

export type DownloadResult = { kind: 'ready'; version: string; path: string } | UpdateDecision;

/**
 * Downloads the approved artifact into `destDir` and reports it ready only when its SHA-512
 * equals latest.yml's; a mismatch deletes the file and refuses.
 */
export async function downloadVerified(
  policy: FeedPolicy,
  decision: Extract<UpdateDecision, { kind: 'may-install' }>,
  destDir: string,
): Promise<DownloadResult> {
  const url = feedUrlFor(policy.updateFeedUrl!, decision.file.url);
  const dest = join(destDir, basename(url.pathname));
  const part = `${dest}.part`;
  const hash = createHash('sha512');
  try {
    const res = await get(url, policy.trustedCaPem);
    res.on('data', (chunk: Buffer) => hash.update(chunk));
    await pipeline(res, createWriteStream(part, { mode: 0o600 }));
  } catch (err) {
    await rm(part, { force: true });
    if (err instanceof FeedFetchError) return refused(err.reason, err.message);
    return refused('feed-unreachable', errorText(err));
  }
  if (hash.digest('base64') !== decision.file.sha512) {
    await rm(part, { force: true });
    return refused('bad-sha512', `${basename(dest)} does not match the sha512 in the feed`);
  }
  await rename(part, dest);
  return { kind: 'ready', version: decision.version, path: dest };
}
