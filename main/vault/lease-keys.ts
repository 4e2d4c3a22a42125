/**
 * The offline lease's layer of the key hierarchy (issue 15 item 3), pure crypto:
 *
 *   passphrase + keychain secret ─(keys.ts, unchanged)→ wrapping key ─AES-GCM→ P (32 random bytes)
 *   P ‖ lease secret (from the server) ─HKDF("lease")→ lease key ─AES-GCM→ MK
 *   P ─HKDF("lease-login")→ login key ─AES-GCM→ the XMPP account (jid, password, server)
 *
 * Without a lease the passphrase layer wraps MK itself. With one it wraps P, which alone opens
 * nothing but the account's sign-in: exactly what the unlock needs to fetch the lease from the
 * server after the passphrase was checked (the password otherwise lives only in the database,
 * which MK opens). Changing the passphrase or the KDF cost re-wraps P and leaves this layer alone.
 *
 * The cached copy (keychain record `<profileId>:lease`): version 1, expiry (ms, uint64 BE), secret.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const KEY_BYTES = 32;
const IV_BYTES = 12;
export const LEASE_SECRET_BYTES = 32;
export const LEASE_LAYER_VERSION = 1;

export interface Sealed {
  iv: string; // base64
  ct: string;
  tag: string;
}

export interface LeaseLayer {
  version: number;
  /** MK under the lease key. */
  master: Sealed;
  /** The XMPP account (JSON) under the login key. */
  login: Sealed;
}

const aad = (what: 'mk' | 'login', profileId: string) =>
  Buffer.from(`clinic-messenger/lease-${what}|${profileId}|v${LEASE_LAYER_VERSION}`, 'utf8');

function seal(plain: Buffer, key: Buffer, ad: Buffer): Sealed {
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(ad);
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return { iv: iv.toString('base64'), ct: ct.toString('base64'), tag: c.getAuthTag().toString('base64') };
}

function open(s: Sealed, key: Buffer, ad: Buffer): Buffer | null {
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(s.iv, 'base64'));
    d.setAAD(ad);
    d.setAuthTag(Buffer.from(s.tag, 'base64'));
    return Buffer.concat([d.update(Buffer.from(s.ct, 'base64')), d.final()]);
  } catch {
    return null;
  }
}

function leaseKey(pre: Buffer, lease: Buffer): Buffer {
  const ikm = Buffer.concat([pre, lease]);
  try {
    return Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), 'clinic-messenger/v1/lease', KEY_BYTES));
  } finally {
    ikm.fill(0);
  }
}

const loginKey = (pre: Buffer) =>
  Buffer.from(hkdfSync('sha256', pre, Buffer.alloc(0), 'clinic-messenger/v1/lease-login', KEY_BYTES));

/** The layer for MK under (P, lease) and the account under P. The caller owns and zero-fills pre. */
export function sealLeaseLayer(
  profileId: string,
  pre: Buffer,
  master: Buffer,
  lease: Buffer,
  login: string,
): LeaseLayer {
  const lk = leaseKey(pre, lease);
  const gk = loginKey(pre);
  const text = Buffer.from(login, 'utf8');
  try {
    return {
      version: LEASE_LAYER_VERSION,
      master: seal(master, lk, aad('mk', profileId)),
      login: seal(text, gk, aad('login', profileId)),
    };
  } finally {
    lk.fill(0);
    gk.fill(0);
    text.fill(0);
  }
}

/** MK, or null when this lease secret is not the one the layer was made with. */
export function openLeasedMaster(profileId: string, layer: LeaseLayer, pre: Buffer, lease: Buffer): Buffer | null {
  if (layer.version !== LEASE_LAYER_VERSION) return null;
  const lk = leaseKey(pre, lease);
  try {
    const mk = open(layer.master, lk, aad('mk', profileId));
    if (mk && mk.length !== KEY_BYTES) {
      mk.fill(0);
      return null;
    }
    return mk;
  } finally {
    lk.fill(0);
  }
}

/** The account text sealed in the layer, or null when P does not open it. */
export function openLeaseLogin(profileId: string, layer: LeaseLayer, pre: Buffer): string | null {
  if (layer.version !== LEASE_LAYER_VERSION) return null;
  const gk = loginKey(pre);
  try {
    const raw = open(layer.login, gk, aad('login', profileId));
    if (!raw) return null;
    const text = raw.toString('utf8');
    raw.fill(0);
    return text;
  } finally {
    gk.fill(0);
  }
}

export interface CachedLease {
  lease: Buffer;
  expiresAt: number;
}

/** The keychain record for a cached lease. */
export function encodeCachedLease({ lease, expiresAt }: CachedLease): Buffer {
  const out = Buffer.alloc(1 + 8 + LEASE_SECRET_BYTES);
  out[0] = 1;
  out.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(expiresAt))), 1);
  lease.copy(out, 9);
  return out;
}

/** Written over the record when the cached lease must no longer be used (the keychain API has no record delete). */
export const NO_CACHED_LEASE = Buffer.from([0]);

/** The cached lease, or null for none, a withdrawn one or a record of another shape. */
export function decodeCachedLease(raw: Buffer | null): CachedLease | null {
  if (!raw || raw.length !== 1 + 8 + LEASE_SECRET_BYTES || raw[0] !== 1) return null;
  return { expiresAt: Number(raw.readBigUInt64BE(1)), lease: Buffer.from(raw.subarray(9)) };
}

/** When a lease renewed at `now` stops opening the profile offline. */
export const leaseExpiry = (now: number, hours: number): number => now + hours * 3_600_000;

/** Whether a cached lease still opens the profile without the server: strictly before its expiry. */
export const leaseValid = (cached: CachedLease, now: number): boolean => now < cached.expiresAt;
