/**
 * `clinic-admin report --from <day> --to <day> --as <compliance-jid> --key <file> --out <dir>
 * [--overdue <hours>] [--server …] [--tls …] [--ca …]` (issue 15 item 4): signs in as the
 * compliance account, reads every anchored batch from its archive, checks every signature and
 * every workstation's chain (../report/check-chains.ts) and writes activity-report.html,
 * activity.csv and findings.csv into <dir>. Exit 0: written and verified; 3: written, and the
 * verification found problems (named in the report and on stderr); 1/2 as every command.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, usageError } from '../errors';
import { refuseExisting, writeNewFile } from '../files';
import type { CliIo } from '../io';
import { readXmppPassword } from '../passphrase';
import { collectEvidence } from '../report/collect';
import { analyse } from '../report/evidence';
import { entriesCsv, findingsCsv, reportHtml, rowsInPeriod, serverCsv } from '../report/render';
import { withSession } from '../report/session';
import { parseSendOptions, type SendOptions } from '../send-options';
import { archiveMetadata } from '../server/prosody-archive';
import { unlockKey } from './wipe';

export const EXIT_PROBLEMS = 3;
export const REPORT_FILES = {
  html: 'activity-report.html',
  entries: 'activity.csv',
  findings: 'findings.csv',
  server: 'server-metadata.csv',
} as const;

export const REPORT_USAGE = `Usage: clinic-admin report --from <YYYY-MM-DD> --to <YYYY-MM-DD> --as <compliance-jid>
         --key <file> --out <dir> [--overdue <hours>] [--server <host>[:<port>]]
         [--tls starttls|direct] [--ca <pem-file>] [--prosody-config <file>]

Reads the audit entries every workstation anchored with the compliance account (the policy's
complianceAccount), checks every signature and every workstation's chain, and writes into <dir>:
activity-report.html (verdict, charts, filterable table; self-contained), activity.csv and
findings.csv. A gap, a rollback, an edited row, a forged batch or a workstation that stopped
anchoring is named (account and workstation id). Check a saved report with verify-report.

  --from, --to      the period, UTC days, both included (at most 366 days)
  --as <jid>        the compliance account; its password is asked at the terminal (not shown)
                    or read from CLINIC_ADMIN_XMPP_PASSWORD
  --key <file>      the compliance key (clinic-admin keygen; its fingerprint is the policy's
                    complianceKeyFingerprint); passphrase asked or read from CLINIC_ADMIN_PASSPHRASE
  --out <dir>       where the files go (created if missing; existing files are never replaced)
  --overdue <hours> a workstation silent for longer before the end of the period is flagged
                    (default 72, the policy's auditAnchorOverdueHours)
  --server, --tls, --ca  as for wipe --send
  --prosody-config <file>  also merge the server's own message metadata (who exchanged messages
                    with whom, when; never content) from Prosody's archive; run on the Prosody
                    server as root; storage = "sql" with SQLite3, as deploy/prosody's

Exit codes: 0 written and verified, 3 written and problems found, 1 failed, 2 bad usage.`;

const DAY_MS = 24 * 3600_000;

function parseDay(text: string | undefined, what: string): number {
  const m = text === undefined ? null : /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text!.trim())
    throw usageError(`${what} must be a day as YYYY-MM-DD (got "${text ?? ''}").`);
  return ms;
}

export function parsePeriod(from: string | undefined, to: string | undefined): { from: number; to: number } {
  const start = parseDay(from, '--from');
  const end = parseDay(to, '--to') + DAY_MS - 1;
  if (end < start) throw usageError('--to is before --from.');
  if (end - start > 366 * DAY_MS) throw usageError('The period is longer than 366 days; make several reports.');
  return { from: start, to: end };
}

export interface ReportOptions extends Omit<SendOptions, 'send'> {
  from: string | undefined;
  to: string | undefined;
  key: string | undefined;
  out: string | undefined;
  overdue: string | undefined;
  prosodyConfig: string | undefined;
}

export async function report(io: CliIo, opts: ReportOptions): Promise<void> {
  const period = parsePeriod(opts.from, opts.to);
  if (opts.as === undefined) throw usageError("report needs --as <compliance-jid> (the policy's complianceAccount).");
  if (!opts.key) throw usageError('report needs --key <file> (the compliance key).');
  if (!opts.out) throw usageError('report needs --out <dir>.');
  const overdueHours = Number(opts.overdue ?? '72');
  if (!Number.isInteger(overdueHours) || overdueHours < 1 || overdueHours > 2160)
    throw usageError(`--overdue must be a whole number of hours from 1 to 2160 (got "${opts.overdue}").`);
  const sending = parseSendOptions({ ...opts, send: true })!;
  const paths = {
    html: join(opts.out, REPORT_FILES.html),
    entries: join(opts.out, REPORT_FILES.entries),
    findings: join(opts.out, REPORT_FILES.findings),
    server: join(opts.out, REPORT_FILES.server),
  };
  for (const p of Object.values(paths)) refuseExisting(p, 'report');
  // Read first: a server whose store cannot be read fails before any passphrase is asked.
  const server = opts.prosodyConfig === undefined ? null : archiveMetadata(opts.prosodyConfig, period, [sending.as]);
  const complianceKey = await unlockKey(io, opts.key);
  const password = await readXmppPassword(io, sending.as);
  const generatedAt = io.now().getTime();
  const evidence = await withSession(
    sending.as,
    password,
    sending.target,
    (conn, _via, onStanza) =>
      collectEvidence(conn, onStanza, {
        server,
        compliance: sending.as,
        complianceKey,
        period: { ...period, overdueHours, generatedAt },
      }),
    'no report was written',
  );
  const analysis = await analyse(evidence);
  try {
    mkdirSync(opts.out, { recursive: true });
  } catch (err) {
    throw new CliError(`Cannot create ${opts.out} (${(err as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  writeNewFile(paths.html, reportHtml(evidence, analysis), 0o600);
  writeNewFile(paths.entries, entriesCsv(rowsInPeriod(evidence, analysis)), 0o600);
  writeNewFile(paths.findings, findingsCsv(analysis), 0o600);
  if (evidence.server !== null) writeNewFile(paths.server, serverCsv(evidence.server), 0o600);
  const ws = analysis.chains.workstations.length;
  io.stdout(
    `Read ${evidence.batches.length} batches from ${ws} workstation${ws === 1 ? '' : 's'} in the archive of ${sending.as}.`,
  );
  io.stdout(`Wrote ${paths.html}, ${paths.entries} and ${paths.findings}.`);
  if (analysis.ok) {
    io.stdout(`Verified: every chain is intact (${analysis.signed} signed batches).`);
    return;
  }
  for (const f of analysis.findings) io.stderr(`${f.kind}: ${f.account} workstation ${f.workstation}: ${f.message}`);
  throw new CliError(
    `Verification failed: ${analysis.findings.length} problem(s), named above and in the report.`,
    EXIT_PROBLEMS,
  );
}
