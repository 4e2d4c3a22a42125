// Attachments in the conversation (issue 16 item 6): a receptionist pastes a small PNG and attaches
// a small PDF with the Attach button; the physician sees both file cards, downloads both, and sees
// the image's thumbnail (the bytes main checked, shown through a blob: URL the CSP allows); the PDF
// stays a card. Real Prosody with mod_http_file_share, two browser harnesses (real AppCore,
// keychain, SQLCipher), Chromium. axe finds nothing, light or dark.
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations,
  dismissToasts,
  messageFromDirectory,
  person,
  screenshot,
  screenshotOnFailure,
  startClinic,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const DOMAIN = 'clinic.test';
const reception = person('reception', DOMAIN, 'Robin Reyes', 'reception');
const physician = person('dr.okafor', DOMAIN, 'Dr. Adaeze Okafor', 'physician');
const PNG_NAME = 'Pasted image.png';
const PDF_NAME = 'referral-scan.pdf';

function crc32(bytes: Buffer): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** A real 96×64 RGB PNG: a blue field with a red square, so the thumbnail is visibly the picture. */
function smallPng(): Buffer {
  const w = 96;
  const h = 64;
  const rows: Buffer[] = [];
  for (let y = 0; y < h; y++) {
    const row = Buffer.alloc(1 + w * 3);
    for (let x = 0; x < w; x++) {
      const red = x > 30 && x < 66 && y > 14 && y < 50;
      row.set(red ? [200, 30, 30] : [40, 110, 200], 1 + x * 3);
    }
    rows.push(row);
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A small one-page PDF (a card only: nothing renders it here). */
function smallPdf(): Buffer {
  return Buffer.from(
    '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
      '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
    'latin1',
  );
}

let clinic: Clinic;
let rec: Workstation;
let doc: Workstation;

beforeAll(async () => {
  clinic = await startClinic('ui-attachments', [reception, physician]);
  // The reception desk's policy caps files at 1 MB (the refusal test); the PNG and PDF are far below.
  rec = await clinic.open('reception-pc', { maxAttachmentMB: 1 });
  doc = await clinic.open('physician-laptop');
  await clinic.signUp(rec.page, reception);
  await clinic.signUp(doc.page, physician);
});

afterAll(async () => {
  await clinic?.close();
});

screenshotOnFailure(() => ({ reception: rec, physician: doc }));

const card = (w: Workstation, name: string) => w.page.getByTestId('attachment').filter({ hasText: name });

describe('attachments in the conversation', () => {
  it('the receptionist pastes a PNG and attaches a PDF; both go out as file cards', async () => {
    await messageFromDirectory(rec.page, physician);
    const box = rec.page.getByRole('textbox', { name: 'Message' });
    // Paste a screenshot: the clipboard's image becomes the attachment, nothing is typed.
    const png = [...smallPng()];
    await box.evaluate((el, bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'image.png', { type: 'image/png' }));
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, png);
    await expect.poll(() => rec.page.getByTestId('composer-file').textContent()).toContain(PNG_NAME);
    expect(await box.inputValue()).toBe('');
    await box.press('Enter');
    await card(rec, PNG_NAME).waitFor({ timeout: 30_000 });
    await expect.poll(() => rec.page.getByTestId('composer-file').count()).toBe(0);

    // The Attach button opens the system's file picker.
    const chooser = rec.page.waitForEvent('filechooser');
    await rec.page.getByRole('button', { name: 'Attach', exact: true }).click();
    await (await chooser).setFiles({ name: PDF_NAME, mimeType: 'application/pdf', buffer: smallPdf() });
    await box.fill('Referral for room 4');
    await rec.page.getByRole('button', { name: 'Send', exact: true }).click();
    const pdf = card(rec, PDF_NAME);
    await pdf.waitFor({ timeout: 30_000 });
    expect(await pdf.textContent()).toMatch(/PDF document · \d+ bytes/);

    for (const name of [PNG_NAME, PDF_NAME])
      await expect.poll(() => card(rec, name).getAttribute('data-state'), { timeout: 45_000 }).toBe('sent');
    // The sender's own copy is stored here: her image shows as a thumbnail too.
    await card(rec, PNG_NAME).getByTestId('attachment-thumbnail').waitFor({ timeout: 15_000 });
    await screenshot(rec.page, 'ui-attachments-reception');
  });

  it("the physician sees both cards and the sender's thumbnail, downloads them, and sees the image itself; the PDF is a card", async () => {
    await dismissToasts(doc.page);
    await messageFromDirectory(doc.page, reception);
    const png = card(doc, PNG_NAME);
    const pdf = card(doc, PDF_NAME);
    await png.waitFor({ timeout: 45_000 });
    await pdf.waitFor({ timeout: 45_000 });
    expect(await png.getAttribute('data-state')).toBe('available');
    expect(await png.textContent()).toContain('PNG image');
    expect(await doc.page.locator('[data-message-id]', { hasText: 'Referral for room 4' }).count()).toBe(1);
    // Not downloaded yet: the small picture its sender signed into the message, re-encoded by
    // main; the full size opens only once the file is here.
    const early = png.locator('[data-testid="attachment-thumbnail"][data-source="sender"]');
    await early.waitFor({ timeout: 15_000 });
    expect(await early.getAttribute('src')).toMatch(/^blob:/);
    expect(await early.getAttribute('alt')).toBe(`Small preview of ${PNG_NAME}, sent with the message`);
    await expect
      .poll(() => early.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]), { timeout: 10_000 })
      .toEqual([96, 64]);
    expect(await png.getByTestId('attachment-open').count()).toBe(0);
    expect(await pdf.locator('img').count()).toBe(0);
    await screenshot(doc.page, 'ui-attachments-before-download');

    await png.getByRole('button', { name: `Download ${PNG_NAME}` }).click();
    await pdf.getByRole('button', { name: `Download ${PDF_NAME}` }).click();
    for (const c of [png, pdf])
      await expect.poll(() => c.getAttribute('data-state'), { timeout: 45_000 }).toBe('stored');
    expect(await png.getByTestId('attachment-state').textContent()).toBe('Downloaded');

    // The downloaded file's own preview replaces the sender's small one once main has re-encoded
    // it, which can be just after the card says "Downloaded": wait for that one, not any thumbnail.
    const thumb = png.locator('[data-testid="attachment-thumbnail"]:not([data-source])');
    await thumb.waitFor({ timeout: 15_000 });
    expect(await thumb.getAttribute('src')).toMatch(/^blob:/);
    expect(await thumb.getAttribute('alt')).toBe(`Preview of ${PNG_NAME}`);
    // Decoded for real: the page painted the 96×64 picture main checked.
    await expect
      .poll(() => thumb.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]), { timeout: 10_000 })
      .toEqual([96, 64]);
    expect(await pdf.locator('img').count()).toBe(0);
    expect(await doc.page.getByTestId('attachment-download').count()).toBe(0);
  });

  it('has no axe violations in light and dark, and gives the docs their pictures', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      await doc.page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
      await dismissToasts(doc.page);
      expect(await axeViolations(doc.page), `physician, ${scheme}`).toEqual([]);
      await screenshot(doc.page, `ui-attachments-physician-${scheme}`);
      await rec.page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
      await dismissToasts(rec.page);
      expect(await axeViolations(rec.page), `reception, ${scheme}`).toEqual([]);
    }
    await doc.page.emulateMedia({ colorScheme: 'light' });
    await rec.page.emulateMedia({ colorScheme: 'light' });
  });

  it("a file over the clinic's limit is refused on screen, and nothing is sent", async () => {
    const before = await rec.page.getByTestId('attachment').count();
    const chooser = rec.page.waitForEvent('filechooser');
    await rec.page.getByRole('button', { name: 'Attach', exact: true }).click();
    const big = Buffer.concat([smallPdf(), Buffer.alloc(1024 * 1024)]);
    await (await chooser).setFiles({ name: 'big-scan.pdf', mimeType: 'application/pdf', buffer: big });
    await rec.page.getByRole('button', { name: 'Send', exact: true }).click();
    const alert = rec.page.getByRole('alert').filter({ hasText: 'larger than your clinic allows' });
    await alert.waitFor({ timeout: 15_000 });
    expect(await alert.textContent()).toBe('Not sent: this file is larger than your clinic allows (1 MB).');
    // The file stays in the composer to remove or replace; no message and no card were added.
    expect(await rec.page.getByTestId('composer-file').textContent()).toContain('big-scan.pdf');
    expect(await rec.page.getByTestId('attachment').count()).toBe(before);
    await screenshot(rec.page, 'ui-attachments-too-large');
    await rec.page.getByRole('button', { name: 'Remove the attached file big-scan.pdf' }).click();
    await expect.poll(() => rec.page.getByTestId('composer-file').count()).toBe(0);
  });

  it('an upload under way can be cancelled: its message is not sent and says so, with Retry', async () => {
    // 10 MB: seconds through the test Prosody's upload, time enough to press Cancel.
    const name = 'long-scan.pdf';
    const chooser = doc.page.waitForEvent('filechooser');
    await doc.page.getByRole('button', { name: 'Attach', exact: true }).click();
    await (
      await chooser
    ).setFiles({
      name,
      mimeType: 'application/pdf',
      buffer: Buffer.concat([smallPdf(), Buffer.alloc(10 * 1024 * 1024)]),
    });
    await doc.page.getByRole('button', { name: 'Send', exact: true }).click();
    const c = card(doc, name);
    await expect.poll(() => c.getAttribute('data-state'), { timeout: 30_000 }).toBe('uploading');
    await c.getByRole('button', { name: `Cancel upload of ${name}` }).click();
    await expect.poll(() => c.getAttribute('data-state'), { timeout: 30_000 }).toBe('failed');
    expect(await c.getByTestId('attachment-state').textContent()).toBe('Upload cancelled: not sent.');
    expect(await c.getByRole('button', { name: /^Cancel/ }).count()).toBe(0);
    const row = doc.page.locator('[data-message-id]').filter({ has: c });
    expect(await row.getByTestId('failure-reason').textContent()).toBe(
      'Not sent: you cancelled the upload of its file. Retry sends it.',
    );
    expect(await row.getByRole('button', { name: 'Retry' }).count()).toBe(1);
    await screenshot(doc.page, 'ui-attachments-upload-cancelled');
  });

  it('ran with the CSP enforced and no script errors', () => {
    expect(rec.problems).toEqual([]);
    expect(doc.problems).toEqual([]);
  });
});
