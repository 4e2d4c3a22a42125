/**
 * The managed policy IT deploys (ARCHITECTURE.md §7). Validated with zod; an invalid file is an
 * error on screen, never a crash and never silently ignored. Users can tighten, never loosen.
 */
import { z } from 'zod';
import { fingerprint, notificationPreview, presetServer } from '../../common/ipc-contract';

/**
 * The built-in Argon2id cost (issue 10 item 10): a managed policy may raise memory and iterations
 * above it, never lower them (load.ts raises them). Parallelism is a speed knob for the user's own
 * cores — the attacker's memory × time cost does not drop with it — so a policy may set it freely.
 * Measured on a 2-core machine: ~0.4 s per unlock (issue 3 asks 0.3–1 s, ≥ 64 MiB).
 */
export const ARGON2_MINIMUM = { memoryKiB: 256 * 1024, iterations: 10 } as const;

export const policySchema = z
  .object({
    /** Pre-set clinic server; null lets the user type it at first run. */
    server: presetServer.nullable().default(null),
    /** PEM of a clinic CA to trust for the XMPP server's certificate, in addition to the system store. */
    trustedCaPem: z.string().nullable().default(null),
    lockTimeoutMaxMinutes: z
      .number()
      .positive()
      .max(24 * 60)
      .default(5),
    lockOnOsLock: z.boolean().default(true),
    /**
     * Closing the window locks the profile (issue 12 §4): on by default, for shared reception PCs,
     * where the next person must meet the lock screen. Off (a person's own laptop): the window
     * hides and the session stays open behind the tray until the idle lock.
     */
    lockOnWindowClose: z.boolean().default(true),
    maxFailedUnlocks: z.number().int().min(3).max(100).default(10),
    passphraseMinLength: z.number().int().min(8).max(128).default(12),
    argon2: z
      .object({
        // The schema's floor stays low so tests can pass fast parameters directly (test tooling);
        // a policy read from a managed source is raised to ARGON2_MINIMUM.
        memoryKiB: z
          .number()
          .int()
          .min(19 * 1024)
          .max(4 * 1024 * 1024)
          .default(ARGON2_MINIMUM.memoryKiB),
        iterations: z.number().int().min(1).max(20).default(ARGON2_MINIMUM.iterations),
        parallelism: z.number().int().min(1).max(16).default(2),
      })
      .default({ ...ARGON2_MINIMUM, parallelism: 2 }),
    notificationPreview: notificationPreview.default('none'),
    /** A message the sender marked Urgent notifies even under Do not disturb or a muted conversation (issue 12 §7). */
    urgentBypassesDnd: z.boolean().default(true),
    screenshotsAllowed: z.boolean().default(false),
    exportAllowed: z.boolean().default(false),
    retentionDays: z.number().int().positive().nullable().default(null),
    adminKeyFingerprints: z.array(fingerprint).default([]),
    wipeOnAccountDisabled: z.boolean().default(false),
    updateFeedUrl: z.string().url().startsWith('https://').nullable().default(null),
    messagingPolicyText: z
      .string()
      .max(20_000)
      .default(
        'Use Clinic Messenger only for clinic business with approved colleagues. Share the minimum necessary patient information. Lock the workstation (Ctrl+L) whenever you step away. Never forward messages outside the clinic.',
      ),
  })
  .strict();

export type Policy = z.infer<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;

export const defaultPolicy: Policy = policySchema.parse({});
