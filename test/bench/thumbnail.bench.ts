/**
 * Time from a photo's arrival to its thumbnail painted (issue 16 §7), in Chromium against the
 * browser harness (real AppCore, Prosody, keychain, SQLCipher), the conversation open on the
 * receiving workstation. Each round the sender's main sends one text message, then one JPEG photo
 * (1600 × 1200, with the sender's thumbnail in the signed payload), one at a time:
 *
 *   arrival      the receiving main's 'message:added' event (the message stored, verified)
 *   text paint   the message's row in the DOM, two frames later — the baseline
 *   thumb paint  the sender's thumbnail <img> in that row decoded, two frames later (the card
 *                lists its attachment, main re-encodes the thumbnail, the page decodes the blob)
 *
 * Both ends are wall-clock epoch milliseconds of the same machine (Node's and the page's
 * performance.timeOrigin + now()). Recorded: p50 and max of arrival → thumbnail painted, against
 * arrival → text row painted in the same run (the ratio says what the picture costs on top).
 *
 *   npx tsx test/bench/thumbnail.bench.ts            CLINIC_BENCH_ROUNDS=10 by default
 */
import { Readable } from 'node:stream';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { messageFromDirectory, person, startClinic } from '../support/ui-support';
import { recordBench, type BenchEntry } from './report';

const ROUNDS = Math.max(1, Number(process.env.CLINIC_BENCH_ROUNDS ?? 10));
const DOMAIN = 'clinic.test';
const sender = person('bench.reception', DOMAIN, 'Bench Reception', 'reception');
const receiver = person('bench.physician', DOMAIN, 'Bench Physician', 'physician');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN;
const round = (x: number) => Math.round(x * 10) / 10;
const now = () => performance.timeOrigin + performance.now();

/** A photo-like JPEG: a gradient with noise (a real photo's size class), different each round. */
async function photo(seed: number): Promise<Buffer> {
  const width = 1600;
  const height = 1200;
  const px = Buffer.alloc(width * height * 3);
  for (let i = 0, y = 0; y < height; y++)
    for (let x = 0; x < width; x++, i += 3) {
      const n = ((x * 7 + y * 13 + seed * 31) * 2654435761) >>> 28;
      px[i] = (x >> 3) + n;
      px[i + 1] = (y >> 3) + n;
      px[i + 2] = 120 + n + seed;
    }
  return sharp(px, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

/**
 * In the page: for each message row that appears, when it was painted and (for a card with the
 * sender's thumbnail) when that picture was decoded and painted, by message id.
 */
async function watchPaints(page: Page): Promise<void> {
  // tsx (esbuild, keepNames) wraps the named helpers below in __name(…), which the page lacks.
  await page.evaluate('globalThis.__name ??= (fn) => fn');
  await page.evaluate(() => {
    const w = window as unknown as { __paints: Record<string, { row?: number; thumb?: number }> };
    w.__paints = {};
    const at = () => performance.timeOrigin + performance.now();
    const painted = (then: (t: number) => void) => requestAnimationFrame(() => requestAnimationFrame(() => then(at())));
    const seen = new WeakSet<Element>();
    const check = () => {
      for (const row of document.querySelectorAll<HTMLElement>('[data-message-id]')) {
        const id = row.dataset.messageId!;
        const entry = (w.__paints[id] ??= {});
        if (!seen.has(row)) {
          seen.add(row);
          if (entry.row === undefined) painted((t) => (entry.row ??= t));
        }
        const img = row.querySelector<HTMLImageElement>('img[data-testid="attachment-thumbnail"]');
        if (img && !seen.has(img)) {
          seen.add(img);
          // A picture that does not decode is never "painted": the round times out instead.
          void img.decode().then(
            () => painted((t) => (entry.thumb ??= t)),
            () => undefined,
          );
        }
      }
    };
    new MutationObserver(check).observe(document.body, { subtree: true, childList: true, attributes: true });
    check();
  });
}

async function paintOf(page: Page, id: string, what: 'row' | 'thumb'): Promise<number> {
  const handle = await page.waitForFunction(
    ({ id, what }) => (window as unknown as { __paints: Record<string, Record<string, number>> }).__paints[id]?.[what],
    { id, what },
    { timeout: 60_000, polling: 50 },
  );
  return (await handle.jsonValue()) as number;
}

async function main(): Promise<void> {
  const clinic = await startClinic('bench-thumbnail', [sender, receiver]);
  try {
    const rec = await clinic.open('reception-pc');
    const doc = await clinic.open('physician-laptop');
    await clinic.signUp(rec.page, sender);
    await clinic.signUp(doc.page, receiver);
    await messageFromDirectory(doc.page, sender);
    await watchPaints(doc.page);

    const arrivals = new Map<string, number>();
    doc.harness.core.events.subscribe((name, payload) => {
      if (name !== 'message:added') return;
      const m = payload as { id: string; direction: string };
      if (m.direction === 'in' && !arrivals.has(m.id)) arrivals.set(m.id, now());
    });
    const messaging = () => rec.harness.core.session.active().messaging;
    const store = rec.harness.core.session.active().store;
    const conv = store.conversations.getOrCreate(receiver.jid);
    /** The receiver's id of the message the sender sent with this origin id, once stored there. */
    const arrived = async (originId: string): Promise<{ id: string; at: number }> => {
      const docStore = doc.harness.core.session.active().store;
      for (;;) {
        const peer = docStore.conversations.byPeer(sender.jid);
        const m = peer && docStore.messages.findByOriginId(peer.id, originId);
        const at = m && arrivals.get(m.id);
        if (m && at !== undefined) return { id: m.id, at };
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    const text: number[] = [];
    const thumb: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t = await messaging().send(conv.id, `bench round ${i}`);
      const ta = await arrived(t.originId!);
      text.push((await paintOf(doc.page, ta.id, 'row')) - ta.at);

      const jpeg = await photo(i);
      const p = await messaging().sendAttachment(conv.id, {
        name: `wound-${i}.jpg`,
        mediaType: 'image/jpeg',
        source: Readable.from([jpeg]),
      });
      const pa = await arrived(p.originId!);
      thumb.push((await paintOf(doc.page, pa.id, 'thumb')) - pa.at);
    }

    const t50 = round(median(text));
    const p50 = round(median(thumb));
    const entries: BenchEntry[] = [
      {
        name: 'attachments/arrival-to-thumbnail-paint-p50',
        value: p50,
        unit: 'ms',
        baseline: t50,
        ratio: round(p50 / t50),
      },
      { name: 'attachments/arrival-to-thumbnail-paint-max', value: round(Math.max(...thumb)), unit: 'ms' },
      { name: 'attachments/arrival-to-text-paint-p50', value: t50, unit: 'ms' },
    ];
    console.log(`\nthumbnail painted after arrival (Chromium, harness) — ${ROUNDS} rounds, 1600×1200 JPEG photos`);
    console.table(entries.map((e) => ({ metric: e.name, value: e.value, unit: e.unit, baseline: e.baseline })));
    recordBench(entries);
  } finally {
    await clinic.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
