// reqauth's binding for @grpc/grpc-js: `import { ReqauthServer, reqauthClientOptions, getClaims } from 'reqauth/grpc-js'`.
export { ReqauthServer, RawMessage } from './server';
export type { ReqauthServerOptions } from './server';
export { DECISIONS_METRIC, DURATION_METRIC } from './telemetry';
export type { ReqauthTelemetryOptions } from './telemetry';
export { reqauthClientOptions, reqauthClientInterceptor, onBehalfOf, presentMacaroon } from './client';
export type { ReqauthClientOptions } from './client';
export { getClaims, getDelegatedMacaroon, requireClaims } from './claims';
export { statusFor } from './status';
