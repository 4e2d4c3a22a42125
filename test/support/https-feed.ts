/**
 * A local update feed for tests: an https server on 127.0.0.1 with an openssl-made test CA (as
 * prosody.ts makes one for the XMPP server), serving fixed responses by path, plus a plain http
 * server to prove nothing ever reaches it. Each server counts the requests it received.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface FeedResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface TestServer {
  url: string;
  /** Paths requested, in order. */
  requests: string[];
  routes: Map<string, FeedResponse>;
  close(): Promise<void>;
}

export interface TestCa {
  caPem: string;
  key: string;
  cert: string;
}

/** A CA and a certificate for 127.0.0.1 signed by it (EC P-256, 2 days). */
export async function makeTestCa(): Promise<TestCa> {
  const dir = mkdtempSync(join(tmpdir(), 'feed-ca-'));
  const o = (args: string[]) => run('openssl', args, { cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await o(['req', '-x509', ...ec, '-days', '2', '-subj', '/CN=Feed Test CA', '-keyout', 'ca.key', '-out', 'ca.crt']);
  await o(['req', ...ec, '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  await o(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
      '-days',
      '2',
      '-extfile',
      'ext.cnf',
      '-out',
      'server.crt',
    ]),
  );
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  const ca = { caPem: read('ca.crt'), key: read('server.key'), cert: read('server.crt') };
  rmSync(dir, { recursive: true, force: true });
  return ca;
}

function serve(server: Server, scheme: 'http' | 'https'): Promise<TestServer> {
  const requests: string[] = [];
  const routes = new Map<string, FeedResponse>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    requests.push(path);
    const route = routes.get(path) ?? { status: 404, body: 'not found' };
    res.writeHead(route.status ?? 200, route.headers ?? {});
    res.end(route.body ?? '');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `${scheme}://127.0.0.1:${port}`,
        requests,
        routes,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

export function startHttpsFeed(ca: TestCa): Promise<TestServer> {
  return serve(createHttpsServer({ key: ca.key, cert: ca.cert }), 'https');
}

export function startHttpServer(): Promise<TestServer> {
  return serve(createHttpServer(), 'http');
}
