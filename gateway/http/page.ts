/**
 * The patient page's HTTP side (issue 17 item 3). GET /m/<id> is the same static page for every
 * id, so a link preview learns nothing and consumes nothing; its script and style are served from
 * here with subresource integrity and a CSP that allows nothing else. POST /api/m/<id>/open takes
 * the date of birth and answers with the ciphertext or why not. The link secret (#fragment) never
 * reaches this server: browsers do not send fragments.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GatewayService, OpenOutcome } from '../service';
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

const STATUS: Record<Exclude<OpenOutcome['kind'], 'ok'>, number> = {
  'not-found': 404,
  expired: 410,
  'wrong-dob': 403,
  locked: 429,
};

export function pageRoutes(service: GatewayService): Route[] {
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
      const m = /^\/api\/m\/([^/]+)\/open$/.exec(path);
      if (!m || req.method !== 'POST') return false;
      const body = await readJson(req);
      const id = m[1]!;
      if (!body || typeof body.dob !== 'string' || !LINK_ID.test(id))
        return (
          json(res, LINK_ID.test(id) ? 400 : 404, { error: LINK_ID.test(id) ? 'bad-request' : 'not-found' }),
          true
        );
      const out = await service.openMessage(id, body.dob);
      if (out.kind === 'ok') json(res, 200, { ciphertext: out.ciphertext.toString('base64') });
      else if (out.kind === 'wrong-dob') json(res, STATUS[out.kind], { error: out.kind, triesLeft: out.triesLeft });
      else if (out.kind === 'locked')
        json(res, STATUS[out.kind], { error: out.kind, until: new Date(out.until).toISOString() });
      else json(res, STATUS[out.kind], { error: out.kind });
      return true;
    },
  ];
}

function json(res: Parameters<Route>[1], status: number, value: unknown): void {
  reply(res, status, 'application/json', JSON.stringify(value));
}

async function readJson(req: Parameters<Route>[0]): Promise<Record<string, unknown> | null> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1024) return null;
    chunks.push(chunk);
  }
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
