// reqauth retire: remove a key, so requests under it fail with unknown_key.
import { AudienceKey, keyringToJson, Keyring, ReqauthConfigError, retireKey } from '../src';
import { CliError, Command, describeKeyring, readKeyring, requireString, rewriteInPlace } from './common';

export const retire: Command = {
  name: 'retire',
  summary: 'remove a (non-active) key from a keyring',
  usage: [
    'Usage: reqauth retire --root FILE --key-id K',
    '',
    'Removes key K from the keyring in FILE (rewritten atomically); requests signed under',
    'it are then refused with unknown_key. The active key cannot be retired: rotate first.',
    'FILE may be a root keyring or a service keyring (the key is then dropped from that',
    'service only; services watching the file pick the change up without a restart).',
    '',
    '  --root FILE    the keyring (root or service)',
    '  --key-id K     the key to remove',
  ].join('\n'),
  options: { root: { type: 'string' }, 'key-id': { type: 'string' } },
  run(values, _positionals, io) {
    const path = requireString(values, 'root');
    const keyId = requireString(values, 'key-id');
    const ring = readKeyring(path);
    let updated: Keyring;
    try {
      updated = ring.format === 'reqauth-root-keyring/v1' ? retireKey(ring, keyId) : { ...ring, keys: retireServiceKey(ring.keys, keyId) };
    } catch (err) {
      if (err instanceof ReqauthConfigError) throw new CliError(`${path}: ${err.message}`);
      throw err;
    }
    rewriteInPlace(path, keyringToJson(updated));
    io.out(`retired: ${keyId}`);
    io.out(`file: ${path} (${describeKeyring(updated)})`);
  },
};

/** retireKey's rules, for a service keyring's audience keys. */
function retireServiceKey(keys: readonly AudienceKey[], keyId: string): AudienceKey[] {
  const left = keys.filter((k) => k.keyId !== keyId);
  if (left.length === keys.length) throw new ReqauthConfigError(`no key ${keyId}`);
  if (!left.some((k) => k.status === 'active')) throw new ReqauthConfigError('cannot retire the active key; rotate first');
  return left;
}
