/**
 * The demo's "patient phone" (issue 17 item 7): a loopback page that shows the texts the patient
 * gateway's SMS sink received, newest first, each with its link, so a newcomer can play the
 * patient too. Static HTML, no script (it reloads itself every few seconds), a strict CSP and no
 * referrer. Demo only: like a real phone's inbox, it shows the link secrets.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readSink, type SinkSms } from '../../gateway/sms/sink';

const escape = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The SMS text with its http(s) link made clickable; everything else as text. */
function bodyHtml(body: string): string {
  return body
    .split(/(https?:\/\/\S+)/)
    .map((part, i) => (i % 2 === 1 ? `<a href="${escape(part)}">${escape(part)}</a>` : escape(part)))
    .join('');
}

export function phonePage(texts: readonly SinkSms[]): string {
  const items = [...texts]
    .reverse()
    .map(
      (t) => `<li><p class="meta">To ${escape(t.to)} · ${escape(t.at)}</p><p class="body">${bodyHtml(t.body)}</p></li>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="3">
<title>Patient phone (demo)</title>
<style>
body{font:16px/1.4 system-ui,sans-serif;margin:0;background:#f3f4f6;color:#111}
main{max-width:26rem;margin:0 auto;padding:1rem}
ul{list-style:none;padding:0;margin:0}
li{background:#fff;border-radius:12px;padding:.6rem .8rem;margin:.6rem 0;box-shadow:0 1px 2px #0002}
.meta{margin:0;font-size:.8rem;color:#374151}.body{margin:.3rem 0 0;overflow-wrap:anywhere}
a{color:#1d4ed8}
</style></head>
<body><main><h1>Patient phone (demo)</h1>
<p>Text messages the clinic's patient gateway sent (its local SMS sink). Open a link to play the patient.</p>
${items ? `<ul>${items}</ul>` : '<p>No text messages yet.</p>'}
</main></body></html>`;
}

export async function startPatientPhone(sinkDir: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/') !== '/') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    });
    res.end(phonePage(readSink(sinkDir)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
