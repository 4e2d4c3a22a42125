/**
 * The managed policy IT deploys (ARCHITECTURE.md §7). Validated with zod; an invalid file is an
 * error on screen, never a crash and never silently ignored. Users can tighten, never loosen.
 */
import { z } from 'zod';
import { bareJid, fingerprint, notificationPreview, presetServer } from '../../common/ipc-contract';
import { SEMVER_PATTERN } from '../update/version';

/**
 * The built-in Argon2id cost (issue 10 item 10): a managed policy may raise memory and iterations
 * above it, never lower them (load.ts raises them). Parallelism is a speed knob for the user's own
 * cores — the attacker's memory × time cost does not drop with it — so a policy may set it freely.
 * Measured on a 2-core machine: ~0.4 s per unlock (issue 3 asks 0.3–1 s, ≥ 64 MiB).
 */
export const ARGON2_MINIMUM = { memoryKiB: 256 * 1024, iterations: 10 } as const;

/**
 * The pre-set server with each field described for IT (the policy templates, issue 14 item 1):
 * the same field schemas as presetServer, so validation does not change.
 */
const policyServer = presetServer.extend({
  domain: presetServer.shape.domain.meta({
    title: 'Server domain',
    description:
      'The domain the staff accounts live on (the part after @ in alice@clinic.example.org). Required whenever another server setting is set.',
  }),
  host: presetServer.shape.host.meta({
    title: 'Server host name',
    description: 'The host name to connect to, when it differs from the domain. Not set: the domain itself.',
  }),
  port: presetServer.shape.port.meta({
    title: 'Server port',
    description: 'The TCP port of the XMPP server. Not set: 5222 for starttls, 5223 for direct.',
  }),
  tls: presetServer.shape.tls.meta({
    title: 'Server encryption',
    description:
      'How the connection is encrypted: starttls (port 5222, the usual) or direct (TLS from the first byte, port 5223). Unencrypted connections are never made.',
  }),
  alternates: presetServer.shape.alternates.meta({
    title: 'Further server addresses',
    description:
      "Other addresses of the same server, such as the other nodes of a clustered server: host or host:port, up to 8. When the address in use cannot be reached, the app tries the next one, at sign-in and on every reconnect. The server's certificate is still checked against the domain. Not set: only the host above.",
  }),
});

/** A pinned update version: a semantic version such as 2.4.0 (semver.org), or null. */
const updateVersion = z
  .string()
  .regex(SEMVER_PATTERN, 'Must be a version such as 2.4.0 (MAJOR.MINOR.PATCH).')
  .nullable()
  .default(null);

/**
 * Every field carries `.meta({ title, description })` in words IT understands: the policy templates
 * (main/policy/templates/, `npm run policy:templates`) are generated from them and refuse a field
 * without a description. `multiline: true` marks text that spans lines (a PEM, paragraphs): Group
 * Policy writes it as REG_MULTI_SZ, one line per entry, which windows.ts joins with \n.
 */
export const policySchema = z
  .object({
    /** Pre-set clinic server; null lets the user type it at first run. */
    server: policyServer.nullable().default(null).meta({
      title: 'Clinic server',
      description:
        "The clinic's XMPP server, pre-set for everyone: at first sign-in people type only their user name. Not set: each person types the server at first sign-in.",
    }),
    /** PEM of a clinic CA to trust for the XMPP server's certificate, in addition to the system store. */
    trustedCaPem: z.string().nullable().default(null).meta({
      title: 'Clinic certificate authority (PEM)',
      description:
        "The PEM certificate of the clinic's own certificate authority, trusted for the XMPP server's certificate in addition to the public roots, never instead of them. Not set: the public roots only.",
      multiline: true,
    }),
    lockTimeoutMaxMinutes: z
      .number()
      .positive()
      .max(24 * 60)
      .default(5)
      .meta({
        title: 'Longest inactivity before the lock (minutes)',
        description:
          'The longest time without use, in minutes, before the app locks. People can choose a shorter time, never a longer one.',
      }),
    lockOnOsLock: z.boolean().default(true).meta({
      title: 'Lock when the computer locks',
      description: "Lock the app when the operating system's screen locks. Sleep always locks.",
    }),
    /**
     * Closing the window locks the profile (issue 12 §4): on by default, for shared reception PCs,
     * where the next person must meet the lock screen. Off (a person's own laptop): the window
     * hides and the session stays open behind the tray until the idle lock.
     */
    lockOnWindowClose: z.boolean().default(true).meta({
      title: 'Lock when the window is closed',
      description:
        "Closing the window locks the profile, so the next person at a shared reception PC meets the lock screen. Off (a person's own laptop): the window only hides and the session stays open until the inactivity lock.",
    }),
    maxFailedUnlocks: z.number().int().min(3).max(100).default(10).meta({
      title: 'Wrong passphrases before the profile is wiped',
      description: 'How many wrong passphrases in a row erase the profile from this computer.',
    }),
    passphraseMinLength: z.number().int().min(8).max(128).default(12).meta({
      title: 'Shortest passphrase (characters)',
      description: 'The fewest characters a new passphrase may have.',
    }),
    argon2: z
      .object({
        // The schema's floor stays low so tests can pass fast parameters directly (test tooling);
        // a policy read from a managed source is raised to ARGON2_MINIMUM.
        memoryKiB: z
          .number()
          .int()
          .min(19 * 1024)
          .max(4 * 1024 * 1024)
          .default(ARGON2_MINIMUM.memoryKiB)
          .meta({
            title: 'Passphrase check memory (KiB)',
            description: `Memory used to check a passphrase, in KiB. Values below ${ARGON2_MINIMUM.memoryKiB} (256 MiB) are raised to it.`,
          }),
        iterations: z
          .number()
          .int()
          .min(1)
          .max(20)
          .default(ARGON2_MINIMUM.iterations)
          .meta({
            title: 'Passphrase check passes',
            description: `Passes over that memory. Values below ${ARGON2_MINIMUM.iterations} are raised to it.`,
          }),
        parallelism: z.number().int().min(1).max(16).default(2).meta({
          title: 'Passphrase check threads',
          description:
            'Processor threads used to check a passphrase: a speed setting only, it does not weaken the protection.',
        }),
      })
      .default({ ...ARGON2_MINIMUM, parallelism: 2 })
      .meta({
        title: 'Passphrase hashing cost (Argon2id)',
        description:
          'How costly a passphrase is to guess on a stolen computer. A policy may raise memory and passes above the built-in values, never lower them.',
      }),
    notificationPreview: notificationPreview.default('none').meta({
      title: 'Notification preview',
      description:
        'What a new-message notification shows: none (only that a message arrived), sender (who sent it) or full (sender and text). People may choose less, never more.',
    }),
    /** A message the sender marked Urgent notifies even under Do not disturb or a muted conversation (issue 12 §7). */
    urgentBypassesDnd: z.boolean().default(true).meta({
      title: 'Urgent messages break through Do not disturb',
      description:
        'A message the sender marked Urgent notifies even under Do not disturb or in a muted conversation. Off: Do not disturb and mute silence it too.',
    }),
    screenshotsAllowed: z.boolean().default(false).meta({
      title: 'Allow screenshots',
      description:
        "Off: the window is hidden from screenshots, screen recording and screen sharing (the operating system's content protection).",
    }),
    exportAllowed: z.boolean().default(false).meta({
      title: 'Allow export',
      description:
        'Lets people take data out of the app: an attachment by "Save as…", "Open in another app" (documents and pictures only) or dragging it out of the window, and the audit log as a CSV file. Each export is audited. Off: these are not offered, and main refuses them.',
    }),
    /** Attachments (issue 16): checked on send and on receive (main/xmpp/attachments.ts). */
    attachmentsAllowed: z.boolean().default(true).meta({
      title: 'Allow attachments',
      description:
        'Lets people send and receive files (photos, scans, PDFs), end-to-end encrypted. Off: a file cannot be attached, and a received one is shown as refused by policy and never downloaded.',
    }),
    maxAttachmentMB: z.number().int().min(1).max(4096).default(50).meta({
      title: 'Largest attachment (MB)',
      description:
        "The largest file, in megabytes (1 MB = 1,048,576 bytes), that can be sent or will be downloaded (1 to 4096). The clinic server's upload limit applies too: keep the two the same.",
    }),
    /**
     * Care-team rooms made by staff (issue 18 §1): the app offers "New care-team room" and makes
     * one with the safe room configuration (main/xmpp/room-create.ts). The clinic server must
     * allow it too (deploy/prosody: restrict_room_creation = "local").
     */
    staffMayCreateRooms: z.boolean().default(false).meta({
      title: 'Staff may create care-team rooms',
      description:
        'Lets people create a care-team room and choose its members from the directory; the room is always members-only, non-anonymous, archived and unlisted, and its creator owns it. The clinic server must allow it too (restrict_room_creation = "local" in Prosody). Off: only IT creates rooms (clinic-admin rooms create).',
    }),
    /**
     * Plain SMS on a patient's documented request (issue 17 item 4, their right of access): the app
     * offers it only when this is on (main/xmpp/patient-plain-sms.ts); the gateway must allow it too.
     */
    patientPlainSmsAllowed: z.boolean().default(false).meta({
      title: "Allow plain SMS on a patient's documented request",
      description:
        'Lets staff record that a patient asked, in a documented request, to get their messages as plain SMS (their right of access), and then send that patient a text as a plain SMS instead of a secure link, after a warning that it goes unencrypted through the phone network. Each request, withdrawal and plain send is audited. The patient gateway must allow it too (plainSms.allowed in gateway.json). Off: the option is not shown and main refuses it.',
    }),
    retentionDays: z.number().int().positive().nullable().default(null).meta({
      title: 'Keep messages on the computer (days)',
      description:
        "Delete messages older than this many days from the computer's local copy, at unlock and every 6 hours (audited). Not set: kept. The server's archive has its own retention.",
    }),
    adminKeyFingerprints: z.array(fingerprint).default([]).meta({
      title: 'Admin key fingerprints',
      description:
        'OpenPGP fingerprints (40 characters 0-9 and A-F, one per entry) of the admin keys allowed to sign a remote wipe; `npx clinic-admin keygen` prints one. Remote wipe is on when this and the admin account are both set (one without the other is an error).',
    }),
    adminAccount: bareJid.nullable().default(null).meta({
      title: 'Admin account',
      description:
        'The XMPP account (for example it-admin@clinic.example.org) that clinic-admin sends remote-wipe commands from. Workstations act only on commands from it, signed by a key in Admin key fingerprints, and look for pending ones at every unlock. Not set: remote wipe is off.',
    }),
    wipeOnAccountDisabled: z.boolean().default(false).meta({
      title: 'Wipe when the server account is disabled',
      description:
        'Erase a workstation profile at its next unlock when the clinic server refuses its account, which signed in there before: deleted or disabled on the server, or its password reset there (the person then signs in again). Also while unlocked, at its next reconnect. A server that cannot be reached never counts.',
    }),
    /**
     * The offline lease (issue 15 item 3): 0 is off. Otherwise the profile's master key is also
     * wrapped with a lease secret the server keeps for the account (vault/lease.ts), renewed at
     * every connection and valid offline for this many hours (at most 90 days).
     */
    offlineLeaseHours: z
      .number()
      .int()
      .min(0)
      .max(90 * 24)
      .default(0)
      .meta({
        title: 'Offline lease (hours)',
        description:
          'How many hours a workstation may be unlocked without reaching the clinic server (1 to 2160). The profile can then be opened only with a lease the server gives to an account it still accepts; it is renewed at every connection. After that time the person must connect to the clinic network to unlock, and a disabled account never gets a new lease, so its profile stays unreadable. 0 or not set: off. Turning it on or off re-wraps each profile at its next unlock.',
      }),
    /** Anchored audit chains (issue 15 item 4): where each workstation sends its new audit entries. */
    complianceAccount: bareJid.nullable().default(null).meta({
      title: 'Compliance account',
      description:
        "The XMPP account (for example compliance@clinic.example.org) that collects every workstation's audit entries for `clinic-admin report`: metadata only, signed by the person's key and encrypted to the compliance key. Anchoring is on when this and the compliance key fingerprint are both set (one without the other is an error).",
    }),
    complianceKeyFingerprint: fingerprint.nullable().default(null).meta({
      title: 'Compliance key fingerprint',
      description:
        'The OpenPGP fingerprint (40 characters 0-9 and A-F) of the compliance key, which the compliance account publishes (`npx clinic-admin publish-key`). Workstations encrypt their audit entries only to a published key with exactly this fingerprint; any other key is refused and audited.',
    }),
    auditAnchorHours: z.number().int().min(1).max(168).default(24).meta({
      title: 'Audit anchoring interval (hours)',
      description:
        'How often an unlocked, connected workstation sends its new audit entries to the compliance account (1 to 168), and at every connection. Used only when the compliance account is set.',
    }),
    auditAnchorOverdueHours: z.number().int().min(1).max(2160).default(72).meta({
      title: 'Audit anchoring overdue after (hours)',
      description:
        'After this many hours without a confirmed anchoring, the audit screen warns that anchoring is overdue (1 to 2160). clinic-admin report uses the same threshold for a workstation that stopped anchoring.',
    }),
    updateFeedUrl: z
      .string()
      .url()
      .startsWith('https://', 'The update feed must be an https:// address: plain http is refused.')
      .nullable()
      .default(null)
      .meta({
        title: 'Update feed address',
        description:
          'The https address of the update feed (the release folder of a build). Not set: automatic updates are off.',
      }),
    updatesDisabled: z.boolean().default(false).meta({
      title: 'Turn off updates',
      description:
        'On: the app never checks the update feed; IT deploys every new version. Off: the app checks the update feed, if one is set.',
    }),
    updateMinVersion: updateVersion.meta({
      title: 'Lowest update version',
      description:
        'An update older than this version (for example 2.4.0) is refused. Not set: no lower bound beyond the running version.',
    }),
    updateMaxVersion: updateVersion.meta({
      title: 'Highest update version',
      description:
        'An update newer than this version (for example 2.9.99) is refused, so IT can hold the clinic on a tested release. Not set: no upper bound.',
    }),
    messagingPolicyText: z
      .string()
      .max(20_000)
      .default(
        'Use Clinic Messenger only for clinic business with approved colleagues. Share the minimum necessary patient information. Lock the workstation (Ctrl+L) whenever you step away. Never forward messages outside the clinic.',
      )
      .meta({
        title: 'Messaging policy text',
        description: "The clinic's messaging policy, shown at first sign-in for each person to acknowledge (audited).",
        multiline: true,
      }),
  })
  .strict();

export type Policy = z.infer<typeof policySchema>;

/** Remote wipe is on (issue 15): an admin account to hear commands from and a key to check them with. */
export const remoteWipeEnabled = (p: Pick<Policy, 'adminAccount' | 'adminKeyFingerprints'>): boolean =>
  p.adminAccount !== null && p.adminKeyFingerprints.length > 0;
/** Audit anchoring is on (issue 15 item 4): a compliance account to send to and the key to encrypt for. */
export const auditAnchoringEnabled = (p: Pick<Policy, 'complianceAccount' | 'complianceKeyFingerprint'>): boolean =>
  p.complianceAccount !== null && p.complianceKeyFingerprint !== null;
export type PolicyInput = z.input<typeof policySchema>;

export const defaultPolicy: Policy = policySchema.parse({});
