/**
 * Sign-in to the messaging server: TCP connect to 'online' (STARTTLS, SCRAM-SHA-1, bind, stream
 * management), against a test Prosody set to Prosody's default 10,000 SCRAM iterations (the test
 * servers elsewhere use 128). The baseline, in the same run and alternating with it, is the same
 * sign-in with sasl-scram-sha-1's own salted-password step, one awaited WebCrypto HMAC per
 * iteration, which the app replaces with one PBKDF2 call (main/xmpp/transport/lib-patches.ts
 * fastScramSaltedPassword; docs/performance.md, "Sign-in: the SCRAM proof").
 *
 *   npx tsx test/bench/sign-in.bench.ts       CLINIC_BENCH_ROUNDS=10 sign-ins each way by default
 */
import { loadavg } from 'node:os';
import scramBitops from 'sasl-scram-sha-1/lib/bitops.js';
import { silentLogger } from '../../main/log';
import { createConnection } from '../../main/xmpp/transport/connection';
import { startProsody } from '../support/prosody';
import { recordBench } from './report';
import { pct } from './stages';

const ROUNDS = Math.max(1, Number(process.env.CLINIC_BENCH_ROUNDS ?? 10));
const ITERATIONS = 10_000;
// Taken before the first connection patches the module (client-factory.ts).
const libraryHi = scramBitops.Hi;

const round = (x: number) => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const server = await startProsody({
    users: [{ jid: 'alice@clinic.test', password: 'bench-sign-in-1', name: 'Alice' }],
    iterationCount: ITERATIONS,
  });
  const signIn = async () => {
    const conn = createConnection({
      jid: 'alice@clinic.test',
      password: 'bench-sign-in-1',
      host: server.host,
      port: server.c2sPort,
      tls: 'starttls',
      caPems: [server.caPem],
      logger: silentLogger,
      onState: () => undefined,
      onStanza: () => undefined,
      onReady: () => undefined,
    });
    const t0 = performance.now();
    await conn.start();
    const ms = performance.now() - t0;
    await conn.stop();
    return ms;
  };
  try {
    await signIn(); // warm-up; it also installs the app's Hi
    const appHi = scramBitops.Hi;
    if (appHi === libraryHi) throw new Error('the app did not replace the SCRAM Hi: nothing to compare');
    const app: number[] = [];
    const library: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      scramBitops.Hi = libraryHi;
      library.push(await signIn());
      scramBitops.Hi = appHi;
      app.push(await signIn());
    }
    const [p50, base] = [pct(app, 50), pct(library, 50)];
    console.log(`\nsign-in, ${ITERATIONS} SCRAM iterations, ${ROUNDS} each way (load ${loadavg()[0]!.toFixed(1)})`);
    console.table([
      { 'salted password': 'one PBKDF2 call (the app)', 'p50 ms': round(p50), 'max ms': round(Math.max(...app)) },
      {
        'salted password': 'an awaited HMAC per iteration (library)',
        'p50 ms': round(base),
        'max ms': round(Math.max(...library)),
      },
    ]);
    console.log(`app ÷ library (p50): ${(p50 / base).toFixed(3)}`);
    recordBench([{ name: `xmpp/sign-in-scram-${ITERATIONS}-p50`, value: p50, unit: 'ms', baseline: base }]);
  } finally {
    await server.stop();
  }
}

await main();
