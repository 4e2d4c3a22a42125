/**
 * The patient page and the gateway's open step (issue 17 item 8), against the real patient gateway
 * (a component of a real Prosody, SMS sink) and real Chromium:
 *
 * - the page on a phone-sized viewport (390×844), CLINIC_BENCH_ROUNDS rounds (default 10), each a
 *   new link in a new browser context: first contentful paint after navigating to the link
 *   (Chromium's paint entry), against the same page's paint with its decrypt library
 *   (openpgp.min.js) not loaded — what the library costs the first paint; then the time to decrypt:
 *   from the date of birth's submit to the message shown in #text, and the in-page part of it
 *   (the open request's response end → text shown: OpenPGP password decryption). Both ends are read
 *   in the page (a capture-phase submit listener and a MutationObserver the bench adds; the shipped
 *   page has no timing code and none was added).
 * - the open step (POST /api/m/<id>/open with the right date of birth and the link's device token),
 *   driven from Node with CLINIC_BENCH_CONCURRENCY requests in flight (default 8) for
 *   CLINIC_BENCH_SECONDS (default 5) over CLINIC_BENCH_LINKS links (default 64, requests spread
 *   round-robin: the gateway opens one link at a time), against a plain GET of the static page
 *   /m/<id> from the same HTTP server (measured before and after, averaged: the load drifts). Each
 *   open checks the DOB against its scrypt verifier (N = 2^15, slow on purpose): that is the step's
 *   cost. POST /check (a store read, no scrypt) is shown beside it.
 *
 * The links share one DOB verifier (made once: each one costs a scrypt, and the gateway checks it
 * the same whatever made it). The gateway's clock is a fake one that never moves, so no open is
 * "more than a day later" and a link's own device token never needs a texted code. Run inside
 * scripts/with-keyring.sh (npm run bench -- patient-page does):
 *
 *   npx tsx test/bench/patient-page.bench.ts    CLINIC_BENCH_ROUNDS=10 CLINIC_BENCH_SECONDS=5
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { xml } from '@xmpp/client';
import * as openpgp from 'openpgp';
import type { Browser, Page } from 'playwright-core';
import { makeDobVerifier } from '../../gateway/dob';
import { launchChromium } from '../support/chromium';
import { fakeClock } from '../support/fake-clock';
import { GATEWAY_NS, startTestGateway, type TestGateway } from '../support/gateway-support';
import { startProsody } from '../support/prosody';
import { rawConnection } from '../support/xmpp-support';
import { recordBench, type BenchEntry } from './report';

const ROUNDS = Math.max(1, Number(process.env.CLINIC_BENCH_ROUNDS ?? 10));
const SECONDS = Math.max(0.5, Number(process.env.CLINIC_BENCH_SECONDS ?? 5));
const CONCURRENCY = Math.max(1, Number(process.env.CLINIC_BENCH_CONCURRENCY ?? 8));
const LINKS = Math.max(CONCURRENCY, Number(process.env.CLINIC_BENCH_LINKS ?? 64));
const RITA = 'rita@clinic.test';
const DOB = '1984-02-29';
const TEXT = 'Your test results are normal. No need to come in.';
const VIEWPORT = { width: 390, height: 844 };

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const pct = (xs: number[], p: number) =>
  sorted(xs)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] ?? NaN;
const median = (xs: number[]) => sorted(xs)[Math.floor((xs.length - 1) / 2)] ?? NaN;
const round = (x: number) => Math.round(x * 10) / 10;

interface Link {
  id: string;
  fragment: string;
  /** The device token its opens carry (the page's is its own, from localStorage). */
  device: string;
}

async function main(): Promise<void> {
  const clock = fakeClock();
  const server = await startProsody({ users: [{ jid: RITA, password: 'rita-pw-1', name: 'Rita Reception' }] });
  let gw: TestGateway | null = null;
  let browser: Browser | null = null;
  const rita = rawConnection(server, RITA, 'rita-pw-1', 'bench');
  try {
    gw = await startTestGateway(server, clock);
    await rita.start();
    await rita.send(xml('presence'));
    const verifier = await makeDobVerifier(DOB);
    let n = 0;
    /** One message through the gateway's send IQ, as the app sends it; a new phone each (the daily cap is per number). */
    const textPatient = async (): Promise<Link> => {
      const fragment = randomBytes(16).toString('base64url');
      const message = await openpgp.createMessage({ text: TEXT });
      const ciphertext = await openpgp.encrypt({ message, passwords: [fragment], format: 'binary' });
      const i = ++n;
      const res = await rita.iq(
        xml(
          'iq',
          { type: 'set', to: server.component.domain, id: `bench-${i}` },
          xml(
            'send',
            { xmlns: GATEWAY_NS, request: `bench-${i}` },
            xml('phone', {}, `+1555060${String(i).padStart(4, '0')}`),
            xml('dob-verifier', {}, verifier),
            xml('sms', {}, 'Your clinic sent you a secure message: {link}'),
            xml('fragment', {}, fragment),
            xml('ciphertext', {}, Buffer.from(ciphertext).toString('base64')),
          ),
        ),
      );
      const id = res.getChild('sent', GATEWAY_NS)?.attrs.id;
      if (!id) throw new Error('the gateway did not take a bench message');
      return { id, fragment, device: randomBytes(16).toString('base64url') };
    };

    // The page in Chromium.
    browser = await launchChromium();
    const paint: number[] = [];
    const paintNoCrypto: number[] = [];
    const decrypt: number[] = [];
    const inPage: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const link = await textPatient();
      const url = `${gw.baseUrl}/m/${link.id}#${link.fragment}`;
      paintNoCrypto.push(await firstPaint(browser, url, true));
      const round1 = await openInPage(browser, url);
      paint.push(round1.paint);
      decrypt.push(round1.decrypt);
      inPage.push(round1.inPage);
    }
    await browser.close();
    browser = null;

    // The open step from Node.
    const links: Link[] = [];
    for (let i = 0; i < LINKS; i++) links.push(await textPatient());
    const base = gw.baseUrl;
    const getPage = (k: number) => fetch(`${base}/m/${links[k % LINKS]!.id}`).then(drain(200));
    const postJson = (k: number, step: string, body: unknown) =>
      fetch(`${base}/api/m/${links[k % LINKS]!.id}/${step}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(drain(200));
    const getBefore = await drive(getPage);
    const opened = await drive((k) => postJson(k, 'open', { dob: DOB, device: links[k % LINKS]!.device }));
    const checked = await drive((k) => postJson(k, 'check', {}));
    const getAfter = await drive(getPage);
    const getRps = (getBefore.rps + getAfter.rps) / 2;
    const getLatency = [...getBefore.latency, ...getAfter.latency];

    const entries: BenchEntry[] = [
      {
        name: 'patient-page/first-paint-p50',
        value: round(median(paint)),
        unit: 'ms',
        baseline: round(median(paintNoCrypto)),
        ratio: Math.round((median(paint) / median(paintNoCrypto)) * 100) / 100,
      },
      { name: 'patient-page/first-paint-max', value: round(Math.max(...paint)), unit: 'ms' },
      { name: 'patient-page/decrypt-p50', value: round(median(decrypt)), unit: 'ms' },
      { name: 'patient-page/decrypt-max', value: round(Math.max(...decrypt)), unit: 'ms' },
      { name: 'patient-page/decrypt-in-page-p50', value: round(median(inPage)), unit: 'ms' },
      { name: 'patient-page/decrypt-in-page-max', value: round(Math.max(...inPage)), unit: 'ms' },
      {
        name: 'gateway/open-rps',
        value: round(opened.rps),
        unit: '/s',
        baseline: round(getRps),
        ratio: Math.round((opened.rps / getRps) * 10_000) / 10_000,
      },
      { name: 'gateway/open-p50', value: round(pct(opened.latency, 50)), unit: 'ms' },
      { name: 'gateway/open-p99', value: round(pct(opened.latency, 99)), unit: 'ms' },
      { name: 'gateway/check-rps', value: round(checked.rps), unit: '/s' },
      { name: 'gateway/page-get-rps', value: round(getRps), unit: '/s' },
      { name: 'gateway/page-get-p50', value: round(pct(getLatency, 50)), unit: 'ms' },
      { name: 'gateway/page-get-p99', value: round(pct(getLatency, 99)), unit: 'ms' },
    ];
    // Wall times on a shared box grow with load: the load average helps read them.
    console.log(
      `\npatient page (Chromium ${VIEWPORT.width}×${VIEWPORT.height}, ${ROUNDS} rounds) and the gateway's open step ` +
        `(${CONCURRENCY} in flight, ${SECONDS} s a phase, ${LINKS} links, ${opened.count} opens) — ` +
        `${cpus().length} cores, load average ${loadavg()[0]?.toFixed(1)}`,
    );
    console.table(
      entries.map((e) => ({ metric: e.name, value: e.value, unit: e.unit, baseline: e.baseline, ratio: e.ratio })),
    );
    recordBench(entries);
  } finally {
    await browser?.close();
    // A connection that never came up has nothing to stop; the servers below must still stop.
    await rita.stop().catch(() => undefined);
    await gw?.close();
    await server.stop();
  }
}

/** Reads the whole answer (so the connection is reused) and refuses any status but `status`. */
function drain(status: number): (res: Response) => Promise<void> {
  return async (res) => {
    await res.arrayBuffer();
    if (res.status !== status) throw new Error(`${res.url}: HTTP ${res.status}`);
  };
}

/** CONCURRENCY loops for SECONDS, each call one request (k: a running count); requests/s and each one's ms. */
async function drive(
  request: (k: number) => Promise<void>,
): Promise<{ rps: number; latency: number[]; count: number }> {
  const latency: number[] = [];
  let k = 0;
  const t0 = performance.now();
  const until = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        const s = performance.now();
        await request(k++);
        latency.push(performance.now() - s);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  return { rps: latency.length / elapsed, latency, count: latency.length };
}

/** A new phone-sized context: navigates to the link and waits for Chromium's first-contentful-paint entry. */
async function firstPaint(browser: Browser, url: string, withoutCrypto: boolean): Promise<number> {
  const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
  try {
    const page = await context.newPage();
    if (withoutCrypto) await page.route('**/static/openpgp.min.js', (route) => route.abort());
    await page.goto(url);
    return await fcp(page);
  } finally {
    await context.close();
  }
}

async function fcp(page: Page): Promise<number> {
  const handle = await page.waitForFunction(
    () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? 0,
    undefined,
    { timeout: 30_000 },
  );
  return handle.jsonValue();
}

/** A new phone-sized context: first paint, then tap, date of birth, submit → message shown; times read in the page. */
async function openInPage(browser: Browser, url: string): Promise<{ paint: number; decrypt: number; inPage: number }> {
  const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
  try {
    const page = await context.newPage();
    await page.goto(url);
    const paint = await fcp(page);
    await page.getByRole('button', { name: 'Open the message' }).click();
    await page.getByLabel('Date of birth').fill(DOB);
    // The bench's own listeners (the page has no timing code): the submit, and #text filled.
    await page.evaluate(() => {
      const w = window as unknown as { benchSubmit?: number; benchShown?: number };
      document.addEventListener('submit', () => (w.benchSubmit = performance.now()), { capture: true, once: true });
      const text = document.getElementById('text')!;
      new MutationObserver(() => {
        if (text.textContent && w.benchShown === undefined) w.benchShown = performance.now();
      }).observe(text, { childList: true, characterData: true, subtree: true });
    });
    await page.getByRole('button', { name: 'Continue' }).click();
    const handle = await page.waitForFunction(
      () => {
        const w = window as unknown as { benchSubmit?: number; benchShown?: number };
        if (w.benchShown === undefined || w.benchSubmit === undefined) return null;
        const open = performance
          .getEntriesByType('resource')
          .find((e): e is PerformanceResourceTiming => e.name.endsWith('/open'));
        return { submit: w.benchSubmit, shown: w.benchShown, response: open?.responseEnd ?? NaN };
      },
      undefined,
      { timeout: 60_000 },
    );
    const t = (await handle.jsonValue()) as { submit: number; shown: number; response: number };
    if ((await page.locator('#text').textContent()) !== TEXT) throw new Error('the page showed another text');
    return { paint, decrypt: t.shown - t.submit, inPage: t.shown - t.response };
  } finally {
    await context.close();
  }
}

main().catch((err: unknown) => {
  console.error(`patient-page bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
