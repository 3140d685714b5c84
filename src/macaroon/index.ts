// Macaroons (Birgisson et al. 2014), byte-compatible with libmacaroons, pymacaroons,
// go-macaroon and the npm `macaroon` package. Transport-free: no grpc-js here.
export { MACAROON_REASONS, type MacaroonReason, type MacaroonRefusal, type MacaroonParseResult } from './errors.js';
export { DEFAULT_MACAROON_LIMITS, type MacaroonLimits } from './limits.js';
export {
  mintMacaroon,
  addFirstPartyCaveat,
  addThirdPartyCaveat,
  bindForRequest,
  isThirdParty,
  type Macaroon,
  type Caveat,
  type MintOptions,
  type MacaroonBytes,
  type ThirdPartyCaveatOptions,
} from './macaroon.js';
export { parseMacaroon, parseMacaroonBytes, serializeMacaroon, serializeMacaroonBinary, type MacaroonFormat } from './serialization.js';
export {
  verifyMacaroon,
  type FirstPartyChecker,
  type VerifiedCaveat,
  type CaveatSource,
  type MacaroonVerified,
  type MacaroonVerifyResult,
} from './verify.js';
export * from './caveat-syntax.js';
export * from './caveat-types.js';
export * from './caveats.js';
