/**
 * The composition root (STYLE.md): builds the store, the SMS provider, the service, the XMPP
 * component and the HTTP server from a validated config, starts them, and returns `stop`.
 * Tests and the demo call it in-process with a fake clock and their own log sink.
 */
import { systemClock, type Clock } from './clock';
import type { GatewayConfig } from './config';
import { jsonLogger, type Logger } from './log';
import { createGatewayService, type GatewayService } from './service';
import type { SmsProvider } from './sms/provider';
import { sinkProvider } from './sms/sink';
import { twilioProvider } from './sms/twilio';
import { openGatewayStore, type GatewayStore } from './store/store';
import { createGatewayComponent } from './xmpp/component';
import { startHttp } from './http/server';

export interface GatewayOptions {
  clock?: Clock;
  /** Where log lines go (default: stdout). */
  logLine?: (line: string) => void;
  /** How often expired links are swept (default 60 s). */
  expirySweepMs?: number;
}

export interface RunningGateway {
  service: GatewayService;
  store: GatewayStore;
  /** The HTTP port actually bound (listen.port 0 picks a free one). */
  httpPort: number;
  stop(): Promise<void>;
}

function providerFor(config: GatewayConfig, clock: Clock): SmsProvider {
  return config.sms.provider === 'twilio' ? twilioProvider(config.sms) : sinkProvider(config.sms.dir, clock);
}

export async function runGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<RunningGateway> {
  const clock = options.clock ?? systemClock;
  const log: Logger = jsonLogger(options.logLine ?? ((l) => process.stdout.write(`${l}\n`)), () => clock.now());
  const store = openGatewayStore(config.storage.sqlitePath);
  let service: GatewayService | null = null;
  const xmpp = createGatewayComponent(config.xmpp, () => service!, log);
  service = createGatewayService({
    config,
    store,
    sms: providerFor(config, clock),
    clock,
    log,
    notify: (c) => xmpp.notify(c),
    deliverReply: (r) => xmpp.deliverReply(r),
  });
  const http = await startHttp(config, service, log).catch((err: unknown) => {
    store.close();
    throw err;
  });
  try {
    await xmpp.start();
  } catch (err) {
    await http.close();
    store.close();
    throw err;
  }
  const stranded = service.failStranded();
  if (stranded) log('warn', 'stranded-texts-failed', { count: stranded });
  const sweep = () => {
    const n = service.expire();
    if (n) log('info', 'links-expired', { count: n });
  };
  sweep();
  const timer = setInterval(sweep, options.expirySweepMs ?? 60_000);
  timer.unref();
  log('info', 'gateway-started', { provider: config.sms.provider });
  return {
    service,
    store,
    httpPort: http.port,
    async stop() {
      clearInterval(timer);
      await xmpp.stop();
      await http.close();
      store.close();
      log('info', 'gateway-stopped', {});
    },
  };
}

/** The CLI's start: runs until the returned stop is called. */
export async function startGateway(config: GatewayConfig): Promise<() => Promise<void>> {
  const running = await runGateway(config);
  return () => running.stop();
}
