// reqauth's transport-free core: sign -> wire -> verify -> claims -> policy -> audit.
// The grpc-js binding is `reqauth/grpc-js`.
export * from './errors';
export * from './crypto';
export * from './wire/envelope';
export * from './keys/derive';
export * from './keys/keyring';
export * from './keys/key-source';
export * from './keys/credential';
export * from './keys/credential-file';
export * from './replay/store';
export * from './replay/memory';
export * from './replay/redis';
export * from './policy';
export * from './descriptor-set';
export * from './wire/stream-tag';
export * from './wire/response-tag';
export * from './signer';
export * from './verifier';
export * from './audit/event';
export * from './wire/metadata-keys';
export * from './macaroon/index';
export * from './macaroon/credential';
export * from './macaroon/identifier';
export * from './watched-file';
export * from './macaroon/keyring';
export * from './macaroon/acceptance';
export * from './audit/attributes';
