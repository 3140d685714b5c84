// reqauth rotate: a new active root key; the old ones keep verifying.
import { activeKey, keyringToJson, rotateRootKeyring } from '../src';
import { CliError, Command, describeKeyring, readKeyring, requireString, rewriteInPlace, warnIfExposed } from './common';

export const rotate: Command = {
  name: 'rotate',
  summary: 'add a new active root key; old keys keep verifying',
  usage: [
    'Usage: reqauth rotate --root FILE',
    '',
    'Adds a fresh key to the root keyring and makes it the active one; the previous keys',
    'become "verify" keys, so credentials issued under them keep working until retired.',
    'FILE is rewritten atomically. Prints the new key id.',
    'Then re-derive every service keyring (reqauth derive --root FILE --audience A --out ...)',
    'before issuing credentials under the new key, or services will refuse them (unknown_key).',
    'A service keyring cannot be rotated: it holds no root secret.',
    '',
    '  --root FILE   the root keyring',
  ].join('\n'),
  options: { root: { type: 'string' } },
  run(values, _positionals, io) {
    const path = requireString(values, 'root');
    const ring = readKeyring(path);
    if (ring.format !== 'reqauth-root-keyring/v1') {
      throw new CliError(`cannot rotate ${path}: it is a ${describeKeyring(ring)}, which holds no root secret; rotate the root keyring and re-derive it`);
    }
    warnIfExposed(path, io);
    const rotated = rotateRootKeyring(ring);
    rewriteInPlace(path, keyringToJson(rotated));
    io.out(`key-id: ${activeKey(rotated).keyId}`);
    io.out(`file: ${path}`);
    io.err('note: re-derive service keyrings from this file before issuing credentials under the new key');
  },
};
