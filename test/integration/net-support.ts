/**
 * Loopback TCP stand-ins for a server that is slow, mute or gone (issue 10 item 13): real
 * sockets, no mocks. A slow proxy in front of the real Prosody delays everything the server
 * sends; a mute server accepts connections and never answers (or trickles a stream header).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TestServer {
  port: number;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

function listen(server: Server, sockets: Set<Socket>): Promise<TestServer> {
  let accepted = 0;
  server.on('connection', (s) => {
    accepted += 1;
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve({
        port: typeof addr === 'object' && addr ? addr.port : 0,
        accepted: () => accepted,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Forwards to 127.0.0.1:`target`; every chunk the server sends reaches the client `delayMs` later, in order. */
export function slowProxy(target: number, delayMs: number): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: target });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => sockets.delete(upstream));
    client.on('close', () => upstream.destroy());
    client.on('data', (d) => upstream.write(d));
    let due = 0;
    upstream.on('data', (d) => {
      due = Math.max(Date.now() + delayMs, due);
      setTimeout(() => client.destroyed || client.write(d), due - Date.now());
    });
    upstream.on('end', () => setTimeout(() => client.end(), Math.max(0, due - Date.now())));
  });
  return listen(server, sockets);
}

/** Accepts and stays silent; with `trickleMs`, sends an XMPP stream header one byte at a time. */
export function muteServer(o: { trickleMs?: number } = {}): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const header = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='clinic.test' id='trickle' version='1.0'>`;
  const server = createServer((s) => {
    if (!o.trickleMs) return;
    let i = 0;
    const timer = setInterval(
      () => (i < header.length && !s.destroyed ? s.write(header[i++]!) : clearInterval(timer)),
      o.trickleMs,
    );
    s.on('close', () => clearInterval(timer));
  });
  return listen(server, sockets);
}

/** A loopback port nobody listens on (connecting is refused at once). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  const s = await listen(server, new Set());
  await s.close();
  return s.port;
}

export interface CuttableProxy extends TestServer {
  /**
   * From now on nothing the server sends on the open connections reaches the client (its acks,
   * its echoes), while what the client sends still reaches the server; when the server closes such
   * a connection, the client's closes too, unannounced.
   */
  cut(): void;
  /** Closes the open connections at once, both sides, as a network that dropped them (nothing is said). */
  drop(): void;
}

/**
 * Forwards to 127.0.0.1:`target` both ways; cut() silences the server and drop() closes the
 * connections open at that moment.
 */
export function cuttableProxy(target: number): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  const open = new Set<{ cut: boolean; client: Socket }>();
  const server = createServer((client) => {
    const link = { cut: false, client };
    open.add(link);
    const upstream = connect({ host: '127.0.0.1', port: target });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => {
      sockets.delete(upstream);
      open.delete(link);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => link.cut || client.destroyed || client.write(d));
  });
  return listen(server, sockets).then((s) => ({
    ...s,
    cut: () => {
      for (const link of open) link.cut = true;
    },
    drop: () => {
      for (const link of open) link.client.destroy();
    },
  }));
}
