/**
 * The activity report's files (issue 15 item 4): a CSV of the anchored entries in the period, a
 * CSV of the findings, and one self-contained HTML page — the verdict on top, the workstations,
 * per-person and per-day bar charts (CSS and inline SVG), the entries as a table with filters (a
 * few lines of inline script), and the evidence (evidence.ts) embedded so `verify-report` can
 * rebuild the page. Pure and deterministic: the same evidence gives the same bytes (times in UTC,
 * no locale), which is what verify-report compares.
 */
import type { AnchorEntry } from '../../main/crypto/audit-anchor';
import type { Analysis, Evidence } from './evidence';

export const EVIDENCE_ID = 'clinic-report-evidence';
const DAY = 24 * 3600_000;

export interface Row extends AnchorEntry {
  account: string;
  workstation: string;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** The anchored entries inside the period, oldest first. */
export function rowsInPeriod(e: Evidence, a: Analysis): Row[] {
  const rows: Row[] = [];
  for (const w of a.chains.workstations)
    for (const x of w.entries)
      if (x.at >= e.from && x.at <= e.to) rows.push({ ...x, account: w.account, workstation: w.workstation });
  return rows.sort((p, q) => p.at - q.at || p.account.localeCompare(q.account) || p.seq - q.seq);
}

const csvCell = (v: string | number) => {
  const s = String(v);
  // A cell that a spreadsheet would run as a formula is quoted with a leading apostrophe.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};
const csvLine = (cells: (string | number)[]) => cells.map(csvCell).join(',');

export function entriesCsv(rows: Row[]): string {
  const lines = [csvLine(['time', 'account', 'workstation', 'seq', 'event', 'detail'])];
  for (const r of rows) lines.push(csvLine([iso(r.at), r.account, r.workstation, r.seq, r.type, r.detail]));
  return `${lines.join('\r\n')}\r\n`;
}

export function findingsCsv(a: Analysis): string {
  const lines = [csvLine(['problem', 'account', 'workstation', 'what'])];
  for (const f of a.findings) lines.push(csvLine([f.kind, f.account, f.workstation, f.message]));
  return `${lines.join('\r\n')}\r\n`;
}

function bars(items: [label: string, value: number][], caption: string): string {
  const max = Math.max(1, ...items.map(([, v]) => v));
  const li = items
    .map(
      ([label, v]) =>
        `<li><span class="label">${esc(label)}</span><span class="track"><span class="bar" style="width:${((v / max) * 100).toFixed(1)}%"></span></span><span class="n">${v}</span></li>`,
    )
    .join('');
  return `<ul class="bars" aria-label="${esc(caption)}">${li}</ul>`;
}

function perDaySvg(rows: Row[], e: Evidence): string {
  const first = Math.floor(e.from / DAY);
  const days = Math.min(400, Math.max(1, Math.floor(e.to / DAY) - first + 1));
  const counts = new Array<number>(days).fill(0);
  for (const r of rows) {
    const d = Math.floor(r.at / DAY) - first;
    if (d >= 0 && d < days) counts[d]!++;
  }
  const max = Math.max(1, ...counts);
  const w = 16;
  const h = 140;
  const top = 16;
  const rects = counts
    .map((c, i) => {
      const bh = Math.round((c / max) * h);
      const day = iso((first + i) * DAY).slice(0, 10);
      return `<rect x="${i * w}" y="${top + h - bh}" width="${w - 2}" height="${bh}"><title>${day}: ${c}</title></rect>`;
    })
    .join('');
  return (
    `<svg class="days" role="img" aria-label="Entries per day" viewBox="0 0 ${days * w} ${top + h + 16}" width="${days * w}" height="${top + h + 16}">` +
    `${rects}<text x="2" y="10">most: ${max}</text><text x="0" y="${top + h + 13}">${iso(first * DAY).slice(0, 10)}</text>` +
    `<text x="${days * w}" y="${top + h + 13}" text-anchor="end">${iso((first + days - 1) * DAY).slice(0, 10)}</text></svg>`
  );
}

function countBy<T>(xs: T[], key: (x: T) => string): [string, number][] {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return [...m.entries()].sort((p, q) => p[0].localeCompare(q[0]));
}

function verdictHtml(a: Analysis): string {
  if (a.ok)
    return `<section class="verdict ok" role="status"><h2>Verified: every workstation's audit chain is intact</h2><p>${a.chains.workstations.length} workstations, ${a.signed} signed batches, no gap, rollback, edit, forgery or silent workstation.</p></section>`;
  const items = a.findings
    .map(
      (f) =>
        `<li><strong>${esc(f.kind)}</strong> ${esc(f.account)} · workstation ${esc(f.workstation)}: ${esc(f.message)}</li>`,
    )
    .join('');
  return `<section class="verdict bad" role="alert"><h2>Verification failed: ${a.findings.length} problem${a.findings.length === 1 ? '' : 's'}</h2><ul>${items}</ul></section>`;
}

function workstationsHtml(a: Analysis): string {
  const rows = a.chains.workstations
    .map(
      (w) =>
        `<tr><td>${esc(w.account)}</td><td>${esc(w.workstation)}</td><td>${w.batches}</td><td>${w.headSeq}</td><td>${w.lastSentAt === null ? '—' : iso(w.lastSentAt)}</td></tr>`,
    )
    .join('');
  return `<table><thead><tr><th>Account</th><th>Workstation</th><th>Batches</th><th>Entries anchored</th><th>Last anchored</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function entriesHtml(rows: Row[]): string {
  const options = (xs: string[]) => xs.map((x) => `<option>${esc(x)}</option>`).join('');
  const people = [...new Set(rows.map((r) => r.account))].sort();
  const types = [...new Set(rows.map((r) => r.type))].sort();
  const body = rows
    .map(
      (r) =>
        `<tr data-account="${esc(r.account)}" data-type="${esc(r.type)}"><td class="nowrap">${iso(r.at).replace('T', ' ')}</td><td>${esc(r.account)}</td><td class="nowrap">${esc(r.workstation)}</td><td>${r.seq}</td><td>${esc(r.type)}</td><td><code>${esc(r.detail)}</code></td></tr>`,
    )
    .join('');
  return (
    `<div class="filters"><label>Person <select id="f-account"><option value="">Everyone</option>${options(people)}</select></label>` +
    `<label>Event <select id="f-type"><option value="">Any</option>${options(types)}</select></label>` +
    `<label>Contains <input id="f-text" type="search"></label> <output id="f-count">${rows.length} entries</output></div>` +
    `<table id="entries"><thead><tr><th>Time (UTC)</th><th>Account</th><th>Workstation</th><th>Seq</th><th>Event</th><th>Detail</th></tr></thead><tbody>${body}</tbody></table>`
  );
}

/** The server's archive metadata (not signed by workstations): messages per pair of accounts in the period. */
function serverHtml(server: NonNullable<Evidence['server']>): string {
  const pairs = new Map<string, { n: number; first: number; last: number }>();
  for (const x of server) {
    const key = [x.account, x.peer].sort().join(' ↔ ');
    const p = pairs.get(key) ?? { n: 0, first: x.at, last: x.at };
    pairs.set(key, { n: p.n + 1, first: Math.min(p.first, x.at), last: Math.max(p.last, x.at) });
  }
  const rows = [...pairs.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([k, p]) => `<tr><td>${esc(k)}</td><td>${p.n}</td><td>${iso(p.first)}</td><td>${iso(p.last)}</td></tr>`)
    .join('');
  return (
    `<section><h2>Server archive metadata</h2><p class="meta">From the XMPP server's own archive: who exchanged messages with whom and when, never content. Each message is counted in each party's archive. Not signed by the workstations.</p>` +
    `<table><thead><tr><th>Accounts</th><th>Archived messages</th><th>First</th><th>Last</th></tr></thead><tbody>${rows}</tbody></table></section>`
  );
}

export function serverCsv(server: NonNullable<Evidence['server']>): string {
  const lines = [csvLine(['time', 'account', 'peer'])];
  for (const x of server) lines.push(csvLine([iso(x.at), x.account, x.peer]));
  return `${lines.join('\r\n')}\r\n`;
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1a1a1a;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:20px 0 8px}.meta{color:#555;margin:0}
.verdict{border-radius:6px;padding:8px 16px;margin:16px 0}.verdict h2{margin:8px 0}
.ok{background:#e6f4ea;border:2px solid #1e7b34}.bad{background:#fdecea;border:2px solid #b3261e}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}code{font-size:12px;word-break:break-all}
.bars{list-style:none;padding:0;margin:0}.bars li{display:flex;align-items:center;gap:8px;margin:3px 0}
.bars .label{flex:0 0 200px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.bars .track{flex:1}
.bars .bar{background:#2f6fb0;height:14px;display:block;min-width:2px}.bars .n{flex:0 0 48px;text-align:right}
td.nowrap{white-space:nowrap}
.days rect{fill:#2f6fb0}.days text{font-size:11px;fill:#555}.filters{display:flex;gap:16px;align-items:center;margin:8px 0}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:24px}.scroll{overflow-x:auto}`;

const SCRIPT = `(()=>{const a=document.getElementById('f-account'),t=document.getElementById('f-type'),x=document.getElementById('f-text'),c=document.getElementById('f-count');
const rows=[...document.querySelectorAll('#entries tbody tr')];function f(){let n=0;const q=x.value.toLowerCase();
for(const r of rows){const show=(!a.value||r.dataset.account===a.value)&&(!t.value||r.dataset.type===t.value)&&(!q||r.textContent.toLowerCase().includes(q));r.hidden=!show;if(show)n++}
c.textContent=n+' entries'}a.onchange=f;t.onchange=f;x.oninput=f})();`;

export function reportHtml(e: Evidence, a: Analysis): string {
  const rows = rowsInPeriod(e, a);
  const period = `${iso(e.from).slice(0, 10)} to ${iso(e.to).slice(0, 10)}`;
  // `<` escaped so no text in the evidence can end the script element.
  const evidence = JSON.stringify(e).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clinic Messenger activity report ${period}</title><style>${STYLE}</style></head>
<body><main><h1>Clinic Messenger activity report</h1>
<p class="meta">${period} (UTC) · compliance account ${esc(e.compliance)} · made ${iso(e.generatedAt)} · metadata only, never message text</p>
${verdictHtml(a)}
<h2>Workstations</h2>${workstationsHtml(a)}
<div class="charts"><section><h2>Activity per person</h2>${bars(
    countBy(rows, (r) => r.account),
    'Entries per person',
  )}</section>
<section><h2>Activity per day</h2><div class="scroll">${perDaySvg(rows, e)}</div></section></div>
<section><h2>Events</h2>${bars(
    countBy(rows, (r) => r.type),
    'Entries per event type',
  )}</section>
<h2>Entries</h2>${entriesHtml(rows)}
${e.server === null ? '' : serverHtml(e.server)}
</main>
<script type="application/json" id="${EVIDENCE_ID}">${evidence}</script>
<script>${SCRIPT}</script></body></html>
`;
}
