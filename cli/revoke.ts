// reqauth revoke: add key ids and principals to a keyring's deny list.
import { keyringToJson, withDenied } from '../src';
import { Command, describeKeyring, readKeyring, requireString, rewriteInPlace, stringList, UsageError } from './common';

export const revoke: Command = {
  name: 'revoke',
  summary: 'deny key ids and/or principals in a root or service keyring',
  usage: [
    'Usage: reqauth revoke --root FILE (--key-id K | --principal P)...',
    '',
    'Adds the given key ids and principals to the deny list of the keyring in FILE',
    '(rewritten atomically). Requests under a denied key fail with revoked_key, requests',
    'from a denied principal with revoked_principal. Services watching FILE pick the change',
    'up without a restart.',
    'FILE may be a root keyring or a service keyring. A service that loads a service',
    'keyring only sees a revocation made in that file: revoke there too, or re-derive it',
    'from the root keyring.',
    '',
    '  --root FILE       the keyring (root or service)',
    '  --key-id K        a key id to deny; repeatable',
    '  --principal P     a principal to deny; repeatable',
  ].join('\n'),
  options: {
    root: { type: 'string' },
    'key-id': { type: 'string', multiple: true },
    principal: { type: 'string', multiple: true },
  },
  run(values, _positionals, io) {
    const path = requireString(values, 'root');
    const keyIds = stringList(values, 'key-id');
    const principals = stringList(values, 'principal');
    if (keyIds.length === 0 && principals.length === 0) throw new UsageError('nothing to revoke: give --key-id and/or --principal');
    const ring = readKeyring(path);
    for (const k of keyIds) {
      if (!ring.keys.some((key) => key.keyId === k)) io.err(`warning: ${path} has no key ${k}; denying it anyway`);
    }
    const updated = withDenied(ring, { keyIds, principals });
    rewriteInPlace(path, keyringToJson(updated));
    if (keyIds.length > 0) io.out(`denied-key-ids: ${keyIds.join(', ')}`);
    if (principals.length > 0) io.out(`denied-principals: ${principals.join(', ')}`);
    io.out(`file: ${path} (${describeKeyring(updated)})`);
    if (updated.format === 'reqauth-root-keyring/v1') {
      io.err('note: services loading a service keyring derived from this file need it re-derived (or revoke there too)');
    }
  },
};
