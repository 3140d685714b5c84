// The metadata keys reqauth uses on the wire (docs/spec.md §4). Binary (`-bin`) keys: gRPC
// base64-encodes them on HTTP/2 and delivers the raw bytes.
/**
 * The authenticated envelope: the envelope bytes followed by their 32-byte MAC. One entry,
 * not two: each binary entry measured 12-35 µs per call in grpc-js and Node's HTTP/2.
 */
export const ENVELOPE_KEY = 'reqauth-envelope-bin';
/** Trailing metadata on a clock refusal: the server's time, decimal milliseconds. */
export const SERVER_TIME_KEY = 'reqauth-server-time';
/**
 * Request metadata an application sets to name the user a call is made for; the client
 * interceptor moves it into the envelope's `on_behalf_of` and removes it from the metadata.
 */
export const ON_BEHALF_OF_KEY = 'reqauth-on-behalf-of';
/**
 * Trailing metadata of a signed response (docs/spec.md §13.2): the response count, the
 * covered metadata names and the MAC over the call's end. Exactly one on a signed response.
 */
export const RESPONSE_KEY = 'reqauth-response-bin';

/**
 * Every request metadata key reqauth reads or writes. A server removes them all before a
 * handler sees the metadata (spec §4): a value a man in the middle added under one of these
 * names (say `reqauth-on-behalf-of`, which an honest client moves into the envelope) must not
 * reach a handler that reads it.
 */
export const REQAUTH_METADATA_KEYS: readonly string[] = [ENVELOPE_KEY, ON_BEHALF_OF_KEY, SERVER_TIME_KEY, RESPONSE_KEY];
