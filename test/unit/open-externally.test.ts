/**
 * "Open in another app" hands only documents and pictures to the system (common/open-externally.ts):
 * a program, a script or a shortcut would run, so it is refused whatever else its name says.
 */
import { describe, expect, it } from 'vitest';
import { opensInAnotherApp } from '../../common/open-externally';

describe('opensInAnotherApp', () => {
  it('takes documents and pictures by their last extension, in any case', () => {
    for (const name of ['lab.pdf', 'LAB.PDF', 'wound.JPG', 'scan.tiff', 'referral.docx', 'list.csv', 'a.b.png'])
      expect(opensInAnotherApp(name), name).toBe(true);
  });

  it('refuses programs, scripts, shortcuts, macro documents and names without a real extension', () => {
    for (const name of [
      'setup.exe',
      'results.pdf.exe',
      'results.pdf.sh',
      'run.bat',
      'run.cmd',
      'x.ps1',
      'x.js',
      'x.vbs',
      'x.lnk',
      'x.desktop',
      'x.html',
      'x.svg',
      'x.docm',
      'x.xlsm',
      'x.jar',
      'x.pdf.',
      'x.pdf ',
      '.pdf',
      'pdf',
      'x.',
      '',
    ])
      expect(opensInAnotherApp(name), name).toBe(false);
  });
});
