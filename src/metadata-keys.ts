// The metadata keys reqauth uses on the wire (docs/spec.md §4). Binary (`-bin`) keys: gRPC
// base64-encodes them on HTTP/2 and delivers the raw bytes.
export const ENVELOPE_KEY = 'reqauth-envelope-bin';
export const MAC_KEY = 'reqauth-mac-bin';
/** Trailing metadata on a clock refusal: the server's time, decimal milliseconds. */
export const SERVER_TIME_KEY = 'reqauth-server-time';
/**
 * Request metadata an application sets to name the user a call is made for; the client
 * interceptor moves it into the envelope's `on_behalf_of` and removes it from the metadata.
 */
export const ON_BEHALF_OF_KEY = 'reqauth-on-behalf-of';
