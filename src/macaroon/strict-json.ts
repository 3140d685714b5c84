// A small strict JSON reader (RFC 8259) for untrusted macaroon JSON. JSON.parse keeps the
// last of two equal keys, so {"i":"a","i":"b"} would mean different macaroons to different
// parsers; here a duplicate key is an error, as are lone surrogates (no UTF-8 encoding),
// nesting deeper than the format needs, and anything after the value.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const MAX_DEPTH = 8;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

class Syntax extends Error {}

export function parseStrictJson(text: string): Json | undefined {
  let at = 0;
  const fail = (): never => {
    throw new Syntax();
  };
  const ws = () => {
    while (at < text.length && (text[at] === ' ' || text[at] === '\t' || text[at] === '\n' || text[at] === '\r')) at++;
  };
  const expect = (s: string) => {
    if (text.startsWith(s, at)) at += s.length;
    else fail();
  };
  const string = (): string => {
    expect('"');
    let out = '';
    for (;;) {
      if (at >= text.length) fail();
      const c = text.charCodeAt(at++);
      if (c === 0x22) break;
      if (c < 0x20) fail();
      if (c !== 0x5c) {
        out += String.fromCharCode(c);
        continue;
      }
      const e = text[at++];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && e in simple) out += simple[e];
      else if (e === 'u') {
        const hex = text.slice(at, at + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail();
        out += String.fromCharCode(parseInt(hex, 16));
        at += 4;
      } else fail();
    }
    if (LONE_SURROGATE.test(out)) fail(); // a lone surrogate has no UTF-8 bytes
    return out;
  };
  const value = (depth: number): Json => {
    if (depth > MAX_DEPTH) fail();
    ws();
    const c = text[at];
    let v: Json;
    if (c === '{') {
      at++;
      const obj: { [key: string]: Json } = Object.create(null);
      ws();
      if (text[at] === '}') at++;
      else
        for (;;) {
          ws();
          const key = string();
          if (Object.prototype.hasOwnProperty.call(obj, key)) fail();
          ws();
          expect(':');
          obj[key] = value(depth + 1);
          ws();
          if (text[at] === ',') at++;
          else if (text[at] === '}') {
            at++;
            break;
          } else fail();
        }
      v = obj;
    } else if (c === '[') {
      at++;
      const arr: Json[] = [];
      ws();
      if (text[at] === ']') at++;
      else
        for (;;) {
          arr.push(value(depth + 1));
          ws();
          if (text[at] === ',') at++;
          else if (text[at] === ']') {
            at++;
            break;
          } else fail();
        }
      v = arr;
    } else if (c === '"') v = string();
    else if (text.startsWith('true', at)) (at += 4), (v = true);
    else if (text.startsWith('false', at)) (at += 5), (v = false);
    else if (text.startsWith('null', at)) (at += 4), (v = null);
    else {
      const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(at, at + 32));
      if (m === null) fail();
      at += m![0].length;
      v = Number(m![0]);
    }
    return v;
  };
  try {
    const v = value(0);
    ws();
    return at === text.length ? v : undefined;
  } catch (e) {
    if (e instanceof Syntax || e instanceof RangeError) return undefined;
    throw e;
  }
}
