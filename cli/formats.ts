// One line per file format, shown by `reqauth --help` and the commands that touch them.
export const FORMATS = [
  'File formats (JSON; "secret", "audienceKey" and "principalKey" are base64url of 32 bytes):',
  '  root keyring     {format:"reqauth-root-keyring/v1", keys:[{keyId,status:"active"|"verify",created,secret}], deny:{keyIds:[],principals:[]}}',
  '  service keyring  {format:"reqauth-service-keyring/v1", audience, keys:[{keyId,status,audienceKey}], deny:{keyIds:[],principals:[]}}',
  '  credential       {format:"reqauth-credential/v1", keyId, audience, principal, roles:[], principalKey}',
].join('\n');
