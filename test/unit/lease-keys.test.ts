/**
 * The offline lease's key layer and its cached record (main/vault/lease-keys.ts), and the
 * server element's parsing (main/xmpp/lease-storage.ts parseLease): pure functions.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeCachedLease,
  encodeCachedLease,
  leaseExpiry,
  leaseValid,
  NO_CACHED_LEASE,
  openLeasedMaster,
  openLeaseLogin,
  sealLeaseLayer,
} from '../../main/vault/lease-keys';
import { parseLease } from '../../main/xmpp/lease-storage';

const ID = 'profile-0001';
const login = JSON.stringify({ jid: 'a@clinic.test', server: { host: 'x', port: 5222, tls: 'starttls' } });

describe('lease layer', () => {
  const pre = randomBytes(32);
  const master = randomBytes(32);
  const lease = randomBytes(32);
  const layer = sealLeaseLayer(ID, pre, master, lease, login);

  it('gives MK back only for the same P and lease secret', () => {
    expect(openLeasedMaster(ID, layer, pre, lease)?.equals(master)).toBe(true);
    expect(openLeasedMaster(ID, layer, pre, randomBytes(32))).toBeNull();
    expect(openLeasedMaster(ID, layer, randomBytes(32), lease)).toBeNull();
  });

  it('binds the layer to its profile and version', () => {
    expect(openLeasedMaster('profile-0002', layer, pre, lease)).toBeNull();
    expect(openLeasedMaster(ID, { ...layer, version: 2 }, pre, lease)).toBeNull();
    expect(openLeaseLogin('profile-0002', layer, pre)).toBeNull();
  });

  it('opens the sign-in with P alone, and never with the lease secret in its place', () => {
    expect(openLeaseLogin(ID, layer, pre)).toBe(login);
    expect(openLeaseLogin(ID, layer, lease)).toBeNull();
  });

  it('refuses a layer whose sealed master key was swapped for its sealed sign-in', () => {
    expect(openLeasedMaster(ID, { ...layer, master: layer.login }, pre, lease)).toBeNull();
  });
});

describe('cached lease record', () => {
  it('round-trips the secret and the expiry', () => {
    const lease = randomBytes(32);
    const back = decodeCachedLease(encodeCachedLease({ lease, expiresAt: 1_780_000_000_123 }));
    expect(back?.expiresAt).toBe(1_780_000_000_123);
    expect(back?.lease.equals(lease)).toBe(true);
  });

  it('reads a withdrawn, missing or foreign record as no lease', () => {
    expect(decodeCachedLease(NO_CACHED_LEASE)).toBeNull();
    expect(decodeCachedLease(null)).toBeNull();
    expect(decodeCachedLease(randomBytes(32))).toBeNull();
    const wrongVersion = encodeCachedLease({ lease: randomBytes(32), expiresAt: 1 });
    wrongVersion[0] = 2;
    expect(decodeCachedLease(wrongVersion)).toBeNull();
  });

  it('is valid strictly before its expiry, computed from the given time', () => {
    const now = Date.parse('2026-06-01T12:00:00Z');
    const expiresAt = leaseExpiry(now, 72);
    expect(expiresAt - now).toBe(72 * 3600_000);
    expect(leaseValid({ lease: Buffer.alloc(32), expiresAt }, expiresAt - 1)).toBe(true);
    expect(leaseValid({ lease: Buffer.alloc(32), expiresAt }, expiresAt)).toBe(false);
  });
});

describe('the server element', () => {
  it('accepts 32 bytes of base64 and nothing else', () => {
    const lease = randomBytes(32);
    expect(parseLease(` ${lease.toString('base64')}\n`)?.equals(lease)).toBe(true);
    expect(parseLease('')).toBeNull();
    expect(parseLease(randomBytes(16).toString('base64'))).toBeNull();
    expect(parseLease('not base64!')).toBeNull();
  });
});
