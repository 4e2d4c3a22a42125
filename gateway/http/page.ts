/**
 * The patient page's HTTP side (issue 17 item 3). GET /m/<id> is the same static page for every
 * id, so a link preview learns nothing and consumes nothing; its script and style are served from
 * here with subresource integrity and a CSP that allows nothing else. POST /api/m/<id>/open takes
 * the date of birth or a one-time code (both when a late or new-device open asks for the code too)
 * and the page's device token, and answers with the ciphertext or why not; /check says which
 * of the two a link asks for, /code texts a code to the phone on record, /reply takes the
 * patient's reply, encrypted in the browser, with the token a passed check gave. The link secret (#fragment) never
 * reaches this server: browsers do not send fragments.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GatewayService, IdentityProof } from '../service';
import { BASE_HEADERS, reply, type Route } from './server';

const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const LINK_ID = /^[A-Za-z0-9_-]{22}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

interface Asset {
  body: Buffer;
  type: string;
  sri: string;
}

function asset(path: string, type: string): Asset {
  const body = readFileSync(path);
  return { body, type, sri: `sha384-${createHash('sha384').update(body).digest('base64')}` };
}

export function loadPageAssets(): { html: string; assets: Map<string, Asset> } {
  const here = (f: string) => fileURLToPath(new URL(`../page/${f}`, import.meta.url));
  // The browser build (a classic script that defines `openpgp`), beside the Node build `exports` points to.
  const nodeBuild = createRequire(import.meta.url).resolve('openpgp');
  const openpgpPath = join(dirname(nodeBuild), '..', 'openpgp.min.js');
  const assets = new Map<string, Asset>([
    ['/static/page.js', asset(here('page.js'), 'text/javascript; charset=utf-8')],
    ['/static/page.css', asset(here('page.css'), 'text/css; charset=utf-8')],
    ['/static/openpgp.min.js', asset(openpgpPath, 'text/javascript; charset=utf-8')],
  ]);
  const html = readFileSync(here('index.html'), 'utf8')
    .replace('{{js-sri}}', assets.get('/static/page.js')!.sri)
    .replace('{{css-sri}}', assets.get('/static/page.css')!.sri)
    .replace('{{openpgp-sri}}', assets.get('/static/openpgp.min.js')!.sri);
  return { html, assets };
}

type Answer = { kind: string } & Record<string, unknown>;

/** HTTP status per outcome; everything but `ok`/`sent` is an error the page explains. */
const STATUS: Record<string, number> = {
  'not-found': 404,
  expired: 410,
  'wrong-dob': 403,
  'wrong-code': 403,
  'no-code': 403,
  'code-expired': 403,
  'code-required': 403,
  'wrong-check': 409,
  locked: 429,
  'too-soon': 429,
  'too-many': 429,
  'opted-out': 403,
  'sms-failed': 502,
  'not-verified': 403,
  'too-large': 413,
  'bad-reply': 400,
  'no-replies': 409,
};

const iso = (ms: unknown) => new Date(ms as number).toISOString();

/** The JSON the page gets: times as ISO strings, the ciphertext as base64. */
function answer(res: Parameters<Route>[1], out: Answer): void {
  const { kind, ...rest } = out;
  const body = forJson(rest);
  if (kind === 'ok' || kind === 'sent' || kind === 'check') json(res, 200, body);
  else json(res, STATUS[kind] ?? 500, { error: kind, ...body });
}

function forJson(value: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v instanceof Buffer) body[k] = v.toString('base64');
    else if (k === 'until' || k === 'expiresAt' || k === 'resendAt') body[k] = iso(v);
    else if (v && typeof v === 'object') body[k] = forJson(v as Record<string, unknown>);
    else body[k] = v;
  }
  return body;
}

const DEVICE = /^[A-Za-z0-9_-]{22}$/;
const short = (v: unknown): v is string => typeof v === 'string' && v.length <= 32;

/**
 * An open request: the dob (with the step-up's code when asked for) or the code alone, short
 * strings, and optionally the page's device token (128 bits, base64url).
 */
function openRequestOf(body: Record<string, unknown>): { proof: IdentityProof; device?: string } | null {
  const { dob, code, device } = body;
  if (device !== undefined && !(typeof device === 'string' && DEVICE.test(device))) return null;
  if (short(dob) && code === undefined) return { proof: { dob }, device };
  if (short(dob) && short(code)) return { proof: { dob, code }, device };
  if (short(code) && dob === undefined) return { proof: { code }, device };
  return null;
}

export function pageRoutes(service: GatewayService, replies: { maxBytes: number }): Route[] {
  // The reply's ciphertext as base64 in JSON, plus the token and the braces.
  const replyLimit = Math.ceil(replies.maxBytes / 3) * 4 + 1024;
  const { html, assets } = loadPageAssets();
  return [
    (req, res, path) => {
      if (req.method !== 'GET') return false;
      const a = assets.get(path);
      if (a) {
        res.writeHead(200, { ...BASE_HEADERS, 'content-type': a.type, 'cache-control': 'public, max-age=300' });
        res.end(a.body);
        return true;
      }
      if (!path.startsWith('/m/')) return false;
      res.writeHead(200, {
        ...BASE_HEADERS,
        'content-security-policy': PAGE_CSP,
        'content-type': 'text/html; charset=utf-8',
      });
      res.end(html);
      return true;
    },
    async (req, res, path) => {
      const m = /^\/api\/m\/([^/]+)\/(check|open|code|reply)$/.exec(path);
      if (!m || req.method !== 'POST') return false;
      const [, id, step] = m as unknown as [string, string, string];
      // An unknown, altered or malformed id: all alike, before anything else is looked at.
      if (!LINK_ID.test(id)) return (json(res, 404, { error: 'not-found' }), true);
      const body = await readJson(req, step === 'reply' ? replyLimit : 1024);
      if (body === 'too-large') return (json(res, 413, { error: 'too-large', maxBytes: replies.maxBytes }), true);
      if (!body) return (json(res, 400, { error: 'bad-request' }), true);
      if (step === 'check') {
        const c = service.checkOf(id);
        answer(res, 'check' in c ? { kind: 'check', check: c.check } : c);
      } else if (step === 'code') {
        answer(res, await service.requestCode(id));
      } else if (step === 'reply') {
        const { token, ciphertext } = body;
        if (
          typeof token !== 'string' ||
          token.length > 64 ||
          typeof ciphertext !== 'string' ||
          !BASE64.test(ciphertext)
        )
          return (json(res, 400, { error: 'bad-request' }), true);
        answer(res, await service.reply(id, token, Buffer.from(ciphertext, 'base64')));
      } else {
        const open = openRequestOf(body);
        if (!open) return (json(res, 400, { error: 'bad-request' }), true);
        answer(res, await service.openMessage(id, open.proof, open.device));
      }
      return true;
    },
  ];
}

function json(res: Parameters<Route>[1], status: number, value: unknown): void {
  reply(res, status, 'application/json', JSON.stringify(value));
}

/** A JSON object body up to `limit` bytes; 'too-large' beyond (read no further), null if not an object. */
async function readJson(
  req: Parameters<Route>[0],
  limit: number,
): Promise<Record<string, unknown> | 'too-large' | null> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Past the limit nothing is kept; the rest is read (so the client gets the answer) up to a point.
    if (size > 16 * limit) {
      req.destroy();
      return 'too-large';
    }
    if (size <= limit) chunks.push(chunk);
  }
  if (size > limit) return 'too-large';
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
