// Signed responses without a transport (spec §13): the vectors of test/vectors/response-v1.json,
// and a signer and verifier keyed from a real signed and verified request, with and without a
// macaroon: honest responses verify, and every change is refused with its reason.
import { expect } from 'chai';
import { hmacSha256, LABELS, MacKey } from '../../src/crypto';
import { issueCredential } from '../../src/keys/credential';
import { staticKeySource } from '../../src/keys/key-source';
import { generateRootKeyring } from '../../src/keys/keyring';
import { mintMacaroon } from '../../src/macaroon/index';
import { RequestSigner } from '../../src/signer';
import { RequestVerifier, VerifiedHeader } from '../../src/verifier';
import { checkCoveredNames, ResponseSigner, ResponseVerifier } from '../../src/wire/response-tag';
import { TRAILER_BYTES } from '../../src/wire/stream-tag';
import { ReqauthConfigError } from '../../src/errors';
import type { EnvelopeVectorFile } from '../vectors/generate';
import type { MetadataJson, ReceivedResponse, ResponseVectorFile } from '../vectors/generate-responses';
import { hex, loadVectors, unhex } from '../support/vectors';

const file = loadVectors<ResponseVectorFile>('response-v1.json');
const envelopes = loadVectors<EnvelopeVectorFile>('envelope-v1.json');

const lookup = (json: MetadataJson) => (name: string) => (json[name] ?? []).map((v) => (name.endsWith('-bin') ? unhex(v) : v));

/** What a ResponseVerifier says about a received response: 'ok' or the first reason. */
function verdictOn(callKey: Buffer, requestMac: Buffer, r: ReceivedResponse): string {
  const verifier = new ResponseVerifier(new MacKey(callKey), requestMac);
  for (const frame of r.frames_hex) {
    const opened = verifier.open(unhex(frame));
    if (!opened.ok) return opened.reason;
  }
  const end = verifier.end(r.status, r.end_entries_hex.map(unhex), { headers: lookup(r.headers), trailers: lookup(r.trailers) });
  return end.ok ? 'ok' : end.reason;
}

describe('response-v1.json: the file itself', () => {
  it('names its source, records both labels, and holds a unary and a streamed response, each with negative vectors', () => {
    expect(file.source).to.include('docs/spec.md');
    expect(file.labels_hex).to.deep.equal({
      responseTag: hex(Buffer.from('reqauth/v1 response tag\u0000', 'ascii')),
      responseEnd: hex(Buffer.from('reqauth/v1 response end\u0000', 'ascii')),
    });
    expect(hex(LABELS.responseTag)).to.equal(file.labels_hex.responseTag);
    expect(hex(LABELS.responseEnd)).to.equal(file.labels_hex.responseEnd);
    expect(file.vectors.find((v) => v.name === 'unary-ok')!.response.frames_hex).to.have.length(1);
    expect(file.vectors.find((v) => v.name === 'stream-ok')!.response.frames_hex).to.have.length(3);
    const reasons = new Set(file.vectors.flatMap((v) => v.negative.map((n) => n.reason)));
    expect([...reasons].sort()).to.deep.equal(['bad_response_end', 'bad_response_tag', 'malformed_response_end', 'missing_response_end', 'missing_response_tag', 'response_truncated']);
  });
});

for (const v of file.vectors) {
  describe(`response-v1.json vector "${v.name}"`, () => {
    const ev = envelopes.vectors.find((e) => e.name === v.request.envelope_vector)!;
    const callKey = unhex(v.request.call_key_hex);
    const mac = unhex(v.request.request_mac_hex);

    it('answers its envelope vector: the call key and request MAC are that request\'s', () => {
      expect(v.request.call_key_hex).to.equal(ev.macaroon?.possession_key_hex ?? ev.principal_key_hex);
      expect(v.request.request_mac_hex).to.equal(ev.mac_hex);
    });

    it('frames: body || trailer, each tag HMAC(call key, label || request MAC || u64be(seq) || 00 || body)', () => {
      v.messages_hex.forEach((body, seq) => {
        const frame = unhex(v.response.frames_hex[seq]!);
        expect(hex(frame.subarray(0, frame.length - TRAILER_BYTES))).to.equal(body);
        expect(hex(frame.subarray(frame.length - TRAILER_BYTES, frame.length - 32))).to.equal('faffffff0f2100');
        const position = Buffer.alloc(9);
        position.writeBigUInt64BE(BigInt(seq));
        expect(hex(frame.subarray(-32))).to.equal(hex(hmacSha256(callKey, LABELS.responseTag, mac, position, unhex(body))));
      });
    });

    it('the end: its MAC over the recorded input, and the entry the signer makes', () => {
      expect(hex(hmacSha256(callKey, unhex(v.end_input_hex)))).to.equal(v.end_mac_hex);
      const entry = unhex(v.response.end_entries_hex[0]!);
      expect(entry.readBigUInt64BE(0)).to.equal(BigInt(v.messages_hex.length));
      expect(hex(entry.subarray(-32))).to.equal(v.end_mac_hex);
      const signer = new ResponseSigner(new MacKey(callKey), mac);
      expect(v.messages_hex.map((m) => hex(signer.tag(unhex(m))))).to.deep.equal(v.response.frames_hex);
      const r = v.response;
      expect(hex(signer.end(r.status, v.covered_names, { headers: lookup(r.headers), trailers: lookup(r.trailers) }))).to.equal(hex(entry));
    });

    it('verifies', () => expect(verdictOn(callKey, mac, v.response)).to.equal('ok'));

    for (const n of v.negative) {
      it(`negative: ${n.name} (${n.reason})`, () => expect(verdictOn(callKey, mac, n)).to.equal(n.reason));
    }
  });
}

describe('a signed request\'s keys sign and verify its response (spec §13)', () => {
  const ring = generateRootKeyring();
  const cred = issueCredential(ring, 'ledger', 'frontend', ['teller']);
  const MACAROON_KEY = Buffer.alloc(32, 7);

  async function call(options: { macaroon?: boolean } = {}): Promise<{ server: ResponseSigner; client: ResponseVerifier; header: VerifiedHeader }> {
    const signer = new RequestSigner(cred);
    const verifier = new RequestVerifier({
      keys: staticKeySource(ring, 'ledger'),
      ...(options.macaroon ? { macaroons: { rootKey: () => MACAROON_KEY, authorize: () => ({ ok: true as const }) } } : {}),
    });
    const root = mintMacaroon({ rootKey: MACAROON_KEY, identifier: 'm-1', location: 'tokens' });
    const signed = signer.signWithResponses('/ledger.v1.LedgerService/GetBalance', Buffer.from('0a01', 'hex'), options.macaroon ? { macaroon: { root, discharges: [], presentation: 'possession' } } : {});
    expect(signed.tagger, 'no tagger for a single-message call').to.equal(undefined);
    const verdict = await verifier.verifyHeader([signed.header.value], '/ledger.v1.LedgerService/GetBalance', true);
    if (!verdict.ok) throw new Error(verdict.reason);
    return { server: verdict.header.responseSigner(), client: signed.responses, header: verdict.header };
  }

  for (const macaroon of [false, true]) {
    it(`messages and the end verify, keyed ${macaroon ? 'with the possession key (a macaroon call)' : 'with the principal key'}`, async () => {
      const { server, client } = await call({ macaroon });
      for (const body of ['one', '', 'three']) {
        const opened = client.open(server.tag(Buffer.from(body)));
        expect(opened.ok && opened.body.toString()).to.equal(body);
      }
      expect(client.received).to.equal(3);
      expect(client.end({ code: 0, details: '' }, [server.end({ code: 0, details: '' })])).to.deep.equal({ ok: true });
    });
  }

  it('a macaroon call\'s response is not under the principal key', async () => {
    const { server } = await call({ macaroon: true });
    const plain = await call();
    expect(plain.client.open(server.tag(Buffer.from('x'))).ok).to.equal(false);
  });

  it('a response to another call of the same principal, method and bytes is refused', async () => {
    const a = await call();
    const b = await call();
    expect(b.client.open(a.server.tag(Buffer.from('same'))), 'its message').to.deep.equal({ ok: false, reason: 'bad_response_tag' });
    expect(b.client.end({ code: 0, details: '' }, [a.server.end({ code: 0, details: '' })]), 'its end').to.deep.equal({ ok: false, reason: 'bad_response_end' });
  });

  it('a request stream gets its tagger and the response verifier from one signature', () => {
    const signed = new RequestSigner(cred).signWithResponses('/ledger.v1.LedgerService/Reconcile', undefined);
    expect(signed.tagger).to.not.equal(undefined);
    expect(signed.responses.received).to.equal(0);
  });

  it('the end entry parses strictly: trailing bytes, a bad or repeated name, a count past 2^53, a text value are malformed', async () => {
    const { server, client } = await call();
    const entry = server.end({ code: 0, details: '' }, ['x-a'], { headers: () => [], trailers: () => [] });
    const malformed = (bytes: Uint8Array | string) => client.end({ code: 0, details: '' }, [bytes]).ok === false && client.end({ code: 0, details: '' }, [bytes]);
    expect(malformed(Buffer.concat([entry, Buffer.of(0)]))).to.deep.equal({ ok: false, reason: 'malformed_response_end' });
    const bad = Buffer.from(entry);
    bad.write('X', 11, 'latin1'); // the name "x-a" becomes "X-a"
    expect(malformed(bad)).to.deep.equal({ ok: false, reason: 'malformed_response_end' });
    const twice = Buffer.concat([entry.subarray(0, 8), Buffer.of(2), entry.subarray(9, 14), entry.subarray(9, 14), entry.subarray(14)]);
    expect(malformed(twice)).to.deep.equal({ ok: false, reason: 'malformed_response_end' });
    const huge = Buffer.from(entry);
    huge.writeBigUInt64BE(2n ** 60n, 0);
    expect(malformed(huge)).to.deep.equal({ ok: false, reason: 'malformed_response_end' });
    expect(malformed(entry.toString('latin1'))).to.deep.equal({ ok: false, reason: 'malformed_response_end' });
    expect(malformed(entry.subarray(0, 40))).to.deep.equal({ ok: false, reason: 'malformed_response_end' });
  });

  it('a status code the client cannot read back is neither signed nor accepted', async () => {
    const { server, client } = await call();
    expect(() => server.end({ code: 1.5, details: '' })).to.throw(RangeError);
    expect(() => server.end({ code: -1, details: '' })).to.throw(RangeError);
    // grpc-js reads a status code with Number(): "abc" arrives as NaN, never as OK.
    expect(client.end({ code: NaN, details: '' }, [server.end({ code: 0, details: '' })])).to.deep.equal({ ok: false, reason: 'malformed_response_end' });
  });

  it('a flags byte other than 00 is refused', async () => {
    const { server, client } = await call();
    const frame = server.tag(Buffer.from('x'));
    frame[frame.length - 33] = 0x01; // an end marker's flag has no place in a response
    expect(client.open(frame)).to.deep.equal({ ok: false, reason: 'bad_response_tag' });
  });

  it('covered names: valid gRPC keys, unique, not gRPC\'s own (except grpc-status-details-bin), at most 255', () => {
    expect(checkCoveredNames(['x-a', 'x-b-bin', 'grpc-status-details-bin'])).to.deep.equal(['x-a', 'x-b-bin', 'grpc-status-details-bin']);
    for (const bad of [['X-A'], ['grpc-message'], ['grpc-encoding'], ['reqauth-response-bin'], [''], ['a b'], ['x', 'x'], Array.from({ length: 256 }, (_, i) => `x-${i}`)]) {
      expect(() => checkCoveredNames(bad), JSON.stringify(bad).slice(0, 40)).to.throw(ReqauthConfigError);
    }
  });
});
