// Strict base64 for untrusted tokens. Implementations emit both alphabets (libmacaroons and
// pymacaroons URL-safe, go-macaroon's V1 standard), with and without padding, so both are
// read; what is refused is everything a lenient decoder would silently skip or round:
// characters outside the alphabet (Node's decoder ignores them), a mix of the two alphabets,
// wrong padding, and non-zero unused bits in the last character (two texts, one token).

const URL = /^[A-Za-z0-9_-]*$/;
const STD = /^[A-Za-z0-9+/]*$/;

export function decodeBase64(text: string): Buffer | undefined {
  let body = text;
  const pad = body.length - body.replace(/=+$/, '').length;
  if (pad > 0) {
    if (pad > 2 || body.length % 4 !== 0) return undefined;
    body = body.slice(0, body.length - pad);
    if ((body.length % 4) + pad !== 4) return undefined; // exactly the padding the length needs
  }
  if (body.length % 4 === 1) return undefined;
  if (!URL.test(body) && !STD.test(body)) return undefined;
  const bytes = Buffer.from(body, 'base64');
  // Canonical: re-encoding gives the same text, so the unused low bits were zero.
  if (bytes.toString('base64url') !== body.replace(/\+/g, '-').replace(/\//g, '_')) return undefined;
  return bytes;
}

/** URL-safe, unpadded: what libmacaroons and pymacaroons emit. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}
