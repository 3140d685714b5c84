// A throwaway PKI for mTLS tests, made at test time with the openssl CLI: a CA, a server
// certificate for 127.0.0.1 and localhost, a client certificate. EC P-256 keys (fast).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';

export interface Pki {
  readonly ca: Buffer;
  readonly serverKey: Buffer;
  readonly serverCert: Buffer;
  readonly clientKey: Buffer;
  readonly clientCert: Buffer;
  /** mTLS server credentials: the client must present a certificate from the CA. */
  serverCredentials(): grpc.ServerCredentials;
  /** Client channel credentials trusting the CA; with the client certificate unless `anonymous`. */
  channel(anonymous?: boolean): grpc.ChannelCredentials;
}

const OPENSSL = process.env['OPENSSL'] ?? '/usr/bin/openssl';

export function makePki(): Pki {
  const dir = mkdtempSync(path.join(tmpdir(), 'reqauth-tls-'));
  try {
    const f = (name: string) => path.join(dir, name);
    const ssl = (...args: string[]) => execFileSync(OPENSSL, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

    ssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '1', '-subj', '/CN=reqauth test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');

    const leaf = (name: string, cn: string, ext: string) => {
      writeFileSync(f(`${name}.ext`), ext);
      ssl('req', '-new', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`);
      ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
        '-out', f(`${name}.pem`), '-days', '1', '-extfile', f(`${name}.ext`));
    };
    leaf('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
    leaf('client', 'reqauth test client', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');

    const ca = readFileSync(f('ca.pem'));
    const serverKey = readFileSync(f('server.key'));
    const serverCert = readFileSync(f('server.pem'));
    const clientKey = readFileSync(f('client.key'));
    const clientCert = readFileSync(f('client.pem'));
    return {
      ca,
      serverKey,
      serverCert,
      clientKey,
      clientCert,
      serverCredentials: () => grpc.ServerCredentials.createSsl(ca, [{ private_key: serverKey, cert_chain: serverCert }], true),
      channel: (anonymous = false) => (anonymous ? grpc.credentials.createSsl(ca) : grpc.credentials.createSsl(ca, clientKey, clientCert)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
