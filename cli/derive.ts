// reqauth derive: from a root keyring, a client credential (with --principal) or the
// service keyring for one audience (without).
import {
  credentialToJson,
  issueCredential,
  keyringToJson,
  parseJsonObject,
  ReqauthConfigError,
  serviceKeyringFor,
} from '../src';
import { readFileSync } from 'node:fs';
import { CliError, Command, optionalString, readRootKeyring, requireString, sameFile, SECRET_FILE_MODE, stringList, UsageError, writeFileAtomic } from './common';
import { FORMATS } from './formats';

export const derive: Command = {
  name: 'derive',
  summary: 'derive a client credential or a service keyring from a root keyring',
  usage: [
    'Usage: reqauth derive --root FILE --audience A --principal P [--role R]... --out FILE',
    '       reqauth derive --root FILE --audience A --out FILE',
    '',
    'With --principal: writes the client credential for principal P calling audience A with',
    'the given roles, under the root keyring\'s active key.',
    'Without --principal: writes the service keyring for audience A: the derived audience',
    'keys and the deny list, everything a service needs to verify requests, without the',
    'root secret. Re-derive it after `rotate` (before issuing credentials under the new',
    'key) and after `revoke` on the root keyring; services watching it reload it.',
    'The output file (mode 0600) is replaced atomically if it exists, unless it is a root',
    'keyring.',
    '',
    '  --root FILE       the root keyring',
    '  --audience A      the service the credential or keyring is for',
    '  --principal P     the calling principal (client credential only)',
    '  --role R          a role granted to P; repeat for several',
    '  --out FILE        where to write the result',
    '',
    FORMATS,
  ].join('\n'),
  options: {
    root: { type: 'string' },
    audience: { type: 'string' },
    principal: { type: 'string' },
    role: { type: 'string', multiple: true },
    out: { type: 'string' },
  },
  run(values, _positionals, io) {
    const rootPath = requireString(values, 'root');
    const audience = requireString(values, 'audience');
    const out = requireString(values, 'out');
    const principal = optionalString(values, 'principal');
    const roles = stringList(values, 'role');
    if (principal === undefined && roles.length > 0) throw new UsageError('--role needs --principal (a service keyring has no roles)');
    if (sameFile(rootPath, out)) throw new CliError(`refusing to overwrite the root keyring ${rootPath} with a derived file`);
    if (holdsRootKeyring(out)) throw new CliError(`refusing to overwrite ${out}: it holds a root keyring`);

    const ring = readRootKeyring(rootPath, 'derive', io);
    if (principal === undefined) {
      const service = serviceKeyringFor(ring, audience);
      writeFileAtomic(out, keyringToJson(service), { mode: SECRET_FILE_MODE, overwrite: true });
      io.out(`service-keyring: ${audience}`);
      io.out(`key-ids: ${service.keys.map((k) => `${k.keyId} (${k.status})`).join(', ')}`);
      io.out(`file: ${out}`);
      return;
    }
    let cred;
    try {
      cred = issueCredential(ring, audience, principal, roles);
    } catch (err) {
      if (err instanceof ReqauthConfigError) throw new CliError(`${rootPath}: ${err.message}`);
      throw err;
    }
    writeFileAtomic(out, credentialToJson(cred), { mode: SECRET_FILE_MODE, overwrite: true });
    io.out(`credential: ${cred.principal} -> ${cred.audience}`);
    io.out(`roles: ${cred.roles.length > 0 ? cred.roles.join(', ') : '(none)'}`);
    io.out(`key-id: ${cred.keyId}`);
    io.out(`file: ${out}`);
  },
};

/** Does `path` exist and hold (or claim to hold) a root keyring? */
function holdsRootKeyring(path: string): boolean {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return false;
  }
  try {
    return parseJsonObject(text, 'file')['format'] === 'reqauth-root-keyring/v1';
  } catch {
    return false;
  }
}
