// Issue 10 item 10: a clinic CA is trusted only from the managed policy. Node's implicit default
// list also holds NODE_EXTRA_CA_CERTS (any user can set it), so the list must always be explicit.
import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { trustOptions } from '../../main/xmpp/transport/tls-trust';

const CLINIC_CA = '-----BEGIN CERTIFICATE-----\nMIIBclinic\n-----END CERTIFICATE-----\n';

describe('XMPP certificate trust', () => {
  it('trusts exactly the bundled public roots when no clinic CA is configured', () => {
    const o = trustOptions('clinic.example', [null, undefined, '  ']);
    expect(o.ca).toEqual([...rootCertificates]);
    expect(o).toMatchObject({ servername: 'clinic.example', rejectUnauthorized: true, minVersion: 'TLSv1.2' });
  });

  it('adds the clinic CA from the policy to the public roots, never replacing them', () => {
    expect(trustOptions('clinic.example', [CLINIC_CA]).ca).toEqual([...rootCertificates, CLINIC_CA]);
  });

  it('builds the handshake context once per trusted list, and another for another list', () => {
    const a = trustOptions('clinic.example', [CLINIC_CA]).secureContext;
    expect(a).toBeDefined();
    expect(trustOptions('other.example', [CLINIC_CA]).secureContext).toBe(a);
    const roots = trustOptions('clinic.example', [null]).secureContext;
    expect(roots).toBeDefined();
    expect(roots).not.toBe(a);
    expect(trustOptions('clinic.example', []).secureContext).toBe(roots);
  });
});
