/**
 * `clinic-admin verify-report <file>` (issue 15 item 4): rechecks a saved activity report. The
 * report embeds its evidence — every batch as its workstation signed it, and the accounts' keys
 * (../report/evidence.ts); this checks every signature again, verifies every chain again, renders
 * the report again and compares it with the file byte for byte. Any edit — a row, the verdict, a
 * chart, the evidence — fails with the first line that differs.
 * Exit 0: intact and verified; 3: intact, and its verdict names problems; 1: edited or unreadable.
 */
import { statSync, readFileSync } from 'node:fs';
import { CliError, usageError } from '../errors';
import type { CliIo } from '../io';
import { analyse, evidenceSchema, type Evidence } from '../report/evidence';
import { EVIDENCE_ID, reportHtml } from '../report/render';
import { EXIT_PROBLEMS } from './report';

export const VERIFY_REPORT_USAGE = `Usage: clinic-admin verify-report <file>

Rechecks a saved activity-report.html: every signature of the embedded evidence, every chain, and
that the page is exactly what that evidence gives (any edit to a row, the verdict or a chart is
found). Prints the fingerprints the signatures were checked against: compare them with the
accounts' keys. Exit codes: 0 intact and verified, 3 intact with problems in its verdict,
1 edited or unreadable, 2 bad usage.`;

const MAX_REPORT_BYTES = 256 * 1024 * 1024;

function readReport(file: string): string {
  try {
    if (statSync(file).size > MAX_REPORT_BYTES) throw new CliError(`${file} is too large to be a report.`);
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`Cannot read ${file} (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')}).`);
  }
}

function evidenceIn(file: string, html: string): Evidence {
  const open = `<script type="application/json" id="${EVIDENCE_ID}">`;
  const start = html.indexOf(open);
  const end = start < 0 ? -1 : html.indexOf('</script>', start);
  if (start < 0 || end < 0) throw new CliError(`${file} is not a clinic-admin activity report (no evidence in it).`);
  try {
    const parsed = evidenceSchema.safeParse(JSON.parse(html.slice(start + open.length, end)));
    if (parsed.success) return parsed.data;
  } catch {
    // reported below
  }
  throw new CliError(`${file} was edited: its embedded evidence is not readable.`);
}

export async function verifyReport(io: CliIo, opts: { file: string | undefined }): Promise<void> {
  if (!opts.file) throw usageError('verify-report needs the report file: clinic-admin verify-report <file>.');
  const html = readReport(opts.file);
  const evidence = evidenceIn(opts.file, html);
  const analysis = await analyse(evidence);
  const expected = reportHtml(evidence, analysis);
  if (expected !== html) {
    const got = html.split('\n');
    const want = expected.split('\n');
    let line = 0;
    while (line < got.length && got[line] === want[line]) line++;
    throw new CliError(
      `${opts.file} was edited after it was made: line ${line + 1} is not what its signed evidence gives. Do not rely on it; make the report again.`,
    );
  }
  io.stdout(
    `${opts.file} is intact: ${evidence.batches.length} batches, ${analysis.signed} signatures checked against:`,
  );
  for (const [account, k] of Object.entries(evidence.keys))
    io.stdout(`  ${account}  ${k?.fingerprint ?? '(no key published)'}`);
  if (analysis.ok) {
    io.stdout('Its verdict: every chain is intact.');
    return;
  }
  throw new CliError(
    `Intact, and its verdict names ${analysis.findings.length} problem(s): see the report.`,
    EXIT_PROBLEMS,
  );
}
