// reqauth keygen: a fresh root keyring with one active key.
import { activeKey, generateRootKeyring, keyringToJson } from '../src';
import { Command, requireString, SECRET_FILE_MODE, writeFileAtomic } from './common';

export const keygen: Command = {
  name: 'keygen',
  summary: 'create a new root keyring (one active key)',
  usage: [
    'Usage: reqauth keygen --out FILE [--force]',
    '',
    'Creates a root keyring with one fresh active key and writes it to FILE (mode 0600).',
    'Prints the key id and the file path; the secret is only ever in FILE.',
    '',
    '  --out FILE   where to write the root keyring',
    '  --force      replace FILE if it exists (its keys are lost for good)',
  ].join('\n'),
  options: { out: { type: 'string' }, force: { type: 'boolean' } },
  run(values, _positionals, io) {
    const out = requireString(values, 'out');
    const ring = generateRootKeyring();
    writeFileAtomic(out, keyringToJson(ring), { mode: SECRET_FILE_MODE, overwrite: values['force'] === true });
    io.out(`key-id: ${activeKey(ring).keyId}`);
    io.out(`file: ${out}`);
  },
};
