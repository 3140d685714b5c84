// reqauth's transport-free core: sign -> wire -> verify -> claims -> policy -> audit.
// The grpc-js binding is `reqauth/grpc-js`.
export * from './errors';
export * from './crypto';
export * from './envelope';
export * from './keys';
export * from './keyring';
export * from './key-source';
export * from './credential';
export * from './credential-file';
export * from './replay';
export * from './policy';
export * from './descriptor-set';
export * from './stream-tag';
export * from './signer';
export * from './verifier';
export * from './audit';
export * from './metadata-keys';
export * from './macaroon/index';
export * from './macaroon-credential';
export * from './watched-file';
export * from './macaroon-keyring';
export * from './macaroon-acceptance';
export * from './audit-attributes';
