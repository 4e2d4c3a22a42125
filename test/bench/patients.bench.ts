/**
 * A segment send end to end (issue 17 item 8): N patients (default 1,000) imported from a CSV into
 * a real session's SQLCipher store, one template, then "send to a segment" through the real
 * patient gateway (a component of a real Prosody) into its SMS sink. The phases as the app runs
 * them: record (each text filled and its SMS checked, the segment and its recipients stored in one
 * transaction), prepare (each DOB verifier made — scrypt N = 2^15, slow on purpose — one per core at
 * once on libuv's pool, stored a batch at a time) and deliver (per text: OpenPGP encryption to a fresh link
 * secret + the archive key, the gateway IQ, the sink write, the store update; eight in flight).
 * Before it, where one recipient's time goes, one at a time (CLINIC_BENCH_SAMPLE of each, default
 * 40): the DOB verifier and the OpenPGP encryption — the verifier one at a time is the baseline the
 * batched preparation is compared with. Checks at the end that the sink holds exactly one SMS per
 * patient. Run inside scripts/with-keyring.sh:
 *
 *   bash scripts/with-keyring.sh npx tsx test/bench/patients.bench.ts     CLINIC_BENCH_PATIENTS=1000
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSink } from '../../gateway/sms/sink';
import { encryptForPatient } from '../../main/crypto/patient-link';
import { makeDobVerifier } from '../../main/patients/dob-verifier';
import { publishPublicKey } from '../../main/xmpp/pep-keys';
import { adminKey } from '../support/crypto-fixtures';
import { fakeClock } from '../support/fake-clock';
import { startTestGateway } from '../support/gateway-support';
import { startProsody } from '../support/prosody';
import { makeClient, rawConnection, waitFor } from '../support/xmpp-support';
import { recordBench, type BenchEntry } from './report';

const N = Math.max(1, Number(process.env.CLINIC_BENCH_PATIENTS ?? 1000));
const SAMPLE = Math.max(1, Number(process.env.CLINIC_BENCH_SAMPLE ?? 40));
const RITA = 'rita@clinic.test';
const COMP = 'compliance@clinic.test';
const round = (x: number) => Math.round(x * 10) / 10;
const phoneOf = (i: number) => `+1555090${String(i).padStart(4, '0')}`;

async function main(): Promise<void> {
  // The app runs on the system clock; the gateway's clock is a day ahead so that the keys the app
  // makes during the run are never "created in the future" for it (a frozen clock would make them so).
  const clock = fakeClock(Date.now() + 86_400_000);
  const dir = mkdtempSync(join(tmpdir(), 'patients-bench-'));
  const server = await startProsody({
    users: [
      { jid: RITA, password: 'rita-pw-1', name: 'Rita Reception' },
      { jid: COMP, password: 'comp-pw-1', name: 'Compliance' },
    ],
  });
  const gw = await startTestGateway(server, clock);
  try {
    const archive = await adminKey('Clinic archive');
    const fingerprint = archive.getFingerprint().toUpperCase();
    const comp = rawConnection(server, COMP, 'comp-pw-1', 'admin');
    await comp.start();
    await publishPublicKey(comp, fingerprint, archive.toPublic().write(), new Date());
    await comp.stop();
    const rita = await makeClient(server, RITA, 'rita-pw-1', {
      dir,
      keys: { store: randomBytes(32), audit: randomBytes(32) },
      policy: { complianceAccount: COMP, complianceKeyFingerprint: fingerprint },
    });
    const rows = Array.from(
      { length: N },
      (_, i) => `Pat${i},Bench${i},${phoneOf(i)},1970-03-${String((i % 28) + 1).padStart(2, '0')}`,
    );
    const lists = rita.messaging.patients.lists;
    const imported = lists.importCsv({
      csv: new TextEncoder().encode(['first name,last name,phone,dob', ...rows].join('\n')),
      skipRefused: false,
    });
    if (imported.added !== N) throw new Error(`imported ${imported.added} of ${N}`);
    const template = lists.saveTemplate({
      id: null,
      name: 'Bench',
      body: 'Dear {firstName}, {clinicName} has news for you, sent on {date}.',
      smsText: 'Your clinic sent you a secure message: {link}',
      quick: false,
    });
    const ids = lists.directory().map((p) => p.id);

    // One recipient's parts one at a time: the DOB verifier (the baseline) and the OpenPGP encryption.
    const archiveKey = archive.toPublic();
    const s0 = performance.now();
    for (let i = 0; i < SAMPLE; i++) await makeDobVerifier('1970-03-01');
    const s1 = performance.now();
    for (let i = 0; i < SAMPLE; i++)
      await encryptForPatient(
        'Dear Pat1, Bench Clinic has news for you, sent on 1 March 2027.',
        archiveKey,
        new Date(),
      );
    const s2 = performance.now();
    const scryptMs = (s1 - s0) / SAMPLE;
    const encryptMs = (s2 - s1) / SAMPLE;

    const t0 = performance.now();
    const segment = await rita.messaging.patients.segments.send({
      templateId: template.id,
      patientIds: ids,
      clinicName: 'Bench Clinic',
    });
    const tRecorded = performance.now();
    const progress = () => rita.store.patientLists.segment(segment.id)!;
    await waitFor('the segment prepared', () => progress().preparing === 0, 3_600_000);
    const t1 = performance.now();
    await waitFor('the segment delivered', () => progress().waiting === 0, 3_600_000);
    const t2 = performance.now();
    // The baseline again after the run: the machine's load drifts, the two halves average it out.
    const s3 = performance.now();
    for (let i = 0; i < SAMPLE; i++) await makeDobVerifier('1970-03-01');
    const scryptMsAfter = (performance.now() - s3) / SAMPLE;
    const done = rita.store.patientLists.segment(segment.id)!;
    const sms = readSink(gw.sinkDir);
    const phones = new Set(sms.map((s) => s.to));
    if (sms.length !== N || phones.size !== N || done.handed !== N)
      throw new Error(`expected ${N} SMS to ${N} phones, got ${sms.length} to ${phones.size} (handed ${done.handed})`);
    await rita.close();

    const prepareRate = N / ((t1 - t0) / 1000);
    const oneAtATimeRate = 2000 / (scryptMs + scryptMsAfter);
    const rowsOut: [string, BenchEntry][] = [
      [
        `one recipient, one at a time: DOB verifier (scrypt; before and after the run)`,
        { name: 'patients/dob-verifier-one', value: round((scryptMs + scryptMsAfter) / 2), unit: 'ms' },
      ],
      [
        `one recipient, one at a time: OpenPGP encryption`,
        { name: 'patients/link-encrypt-one', value: round(encryptMs), unit: 'ms' },
      ],
      [
        `record ${N} (fill, SMS check, store the recipients)`,
        { name: `patients/segment-record-${N}`, value: round((tRecorded - t0) / 1000), unit: 's' },
      ],
      [
        `prepare ${N} (record, then DOB verifiers ${Math.min(availableParallelism(), 4)} at once, stored in batches)`,
        { name: `patients/segment-prepare-${N}`, value: round((t1 - t0) / 1000), unit: 's' },
      ],
      [
        'prepare rate vs verifiers one at a time',
        {
          name: 'patients/segment-prepare-rate',
          value: round(prepareRate),
          unit: 'msg/s',
          baseline: round(oneAtATimeRate),
          ratio: Math.round((prepareRate / oneAtATimeRate) * 100) / 100,
        },
      ],
      [
        `deliver ${N} (encrypt, gateway, sink, store)`,
        { name: `patients/segment-deliver-${N}`, value: round((t2 - t1) / 1000), unit: 's' },
      ],
      ['deliver rate', { name: 'patients/segment-deliver-rate', value: round(N / ((t2 - t1) / 1000)), unit: 'msg/s' }],
      [
        'end to end rate',
        { name: 'patients/segment-end-to-end-rate', value: round(N / ((t2 - t0) / 1000)), unit: 'msg/s' },
      ],
    ];
    const width = Math.max(...rowsOut.map(([l]) => l.length));
    // Wall times on a shared box grow with load: the load average helps read them.
    console.log(`\npatients bench (${N} patients, ${cpus().length} cores, load average ${loadavg()[0]?.toFixed(1)})\n`);
    for (const [label, e] of rowsOut)
      console.log(
        `  ${label.padEnd(width)}  ${String(e.value).padStart(8)} ${e.unit}` +
          (e.baseline !== undefined ? `  (baseline ${e.baseline} ${e.unit}, ${e.ratio}×)` : ''),
      );
    console.log(`\n  exactly one SMS per patient: yes (${N})\n`);
    recordBench(rowsOut.map(([, e]) => e));
  } finally {
    await gw.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`patients bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
