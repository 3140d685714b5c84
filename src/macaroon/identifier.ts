// A macaroon identifier's one text form (docs/spec.md §11.3), used wherever a person or a file
// names a macaroon: claims, audit attributes, the CLI, revocation lists. reqauth mints
// identifiers as ASCII (`KEYID.RANDOM`), which stay as they are; an identifier that is not
// printable UTF-8 (other libraries may mint raw bytes) is `base64url:` and its bytes, so the
// text is unambiguous and safe to print.

const PREFIX = 'base64url:';
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The identifier as text: its UTF-8 when printable, else `base64url:` + base64url (no padding). */
export function macaroonIdText(identifier: Uint8Array): string {
  let text: string | undefined;
  try {
    text = utf8.decode(identifier);
  } catch {
    text = undefined;
  }
  // Control characters (C0, DEL, C1), bidi controls and line/paragraph separators would let an
  // identifier rewrite the line it is printed on.
  if (text !== undefined && text.length > 0 && !/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/.test(text) && !text.startsWith(PREFIX)) {
    return text;
  }
  return PREFIX + Buffer.from(identifier.buffer, identifier.byteOffset, identifier.length).toString('base64url');
}

/**
 * The identifier bytes a text form names (the inverse of macaroonIdText), or undefined when
 * `text` is not the one text form of any identifier. Strict: a printable identifier written as
 * `base64url:…` is refused, because revocation compares text forms and that alias would match
 * nothing (a revocation that silently revokes nothing).
 */
export function macaroonIdFromText(text: string): Uint8Array | undefined {
  let bytes: Uint8Array;
  if (text.startsWith(PREFIX)) {
    const b64 = text.slice(PREFIX.length);
    if (!/^[A-Za-z0-9_-]+$/.test(b64)) return undefined;
    bytes = Buffer.from(b64, 'base64url');
  } else {
    bytes = Buffer.from(text, 'utf8');
  }
  return bytes.length > 0 && macaroonIdText(bytes) === text ? bytes : undefined;
}
