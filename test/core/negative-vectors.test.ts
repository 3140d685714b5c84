// The negative vectors (test/vectors/negative-v1.json, generated from docs/spec.md by
// test/vectors/generate-negative.py): each call through the public RequestVerifier and
// StreamVerifier must end in the decision, reason code and gRPC status the spec assigns.
// The Python package (python/tests/test_negative_vectors.py) runs the same file.
import { expect } from 'chai';
import {
  MemoryReplayStore,
  Policy,
  RequestVerifier,
  RootKeyring,
  macaroonAcceptance,
  macaroonKeys,
  ReasonCode,
  staticKeySource,
  AccessRule,
} from '../../src';
import { statusFor } from '../../interceptors';
import { loadVectors, unhex } from '../support/vectors';

interface Call {
  method: string;
  call: 'unary' | 'server_streaming' | 'client_streaming' | 'bidi_streaming';
  metadata: ({ bin_hex: string } | { text: string })[];
  message_hex?: string;
  frames_hex?: string[];
  half_close?: boolean;
}

interface NegativeVector extends Call {
  name: string;
  description: string;
  server_time_ms?: number;
  store_start_ms?: number;
  keyring?: { deny_key_ids?: string[]; deny_principals?: string[] };
  policy?: Record<string, AccessRule>;
  macaroons?: { keys: Record<string, string>; revoked?: string[]; accept_handoff?: boolean; self?: string };
  prior?: Call[];
  expect: { decision: 'allow' } | { decision: 'deny'; reason: ReasonCode; status: number; step: string; at?: number | 'half_close' };
}

interface NegativeFile {
  setup: {
    root_secret_hex: string;
    key_id: string;
    audience: string;
    server_time_ms: number;
    store_start_ms: number;
    max_age_ms: number;
    max_future_ms: number;
    policy: Record<string, AccessRule>;
  };
  vectors: NegativeVector[];
}

const file = loadVectors<NegativeFile>('negative-v1.json');
const setup = file.setup;

type Outcome = { decision: 'allow' } | { decision: 'deny'; reason: ReasonCode; at?: number | 'half_close' };

async function run(verifier: RequestVerifier, c: Call): Promise<Outcome> {
  const values = c.metadata.map((m) => ('bin_hex' in m ? unhex(m.bin_hex) : m.text));
  const single = c.call === 'unary' || c.call === 'server_streaming';
  const verdict = await verifier.verifyHeader(values, c.method, single);
  if (!verdict.ok) return { decision: 'deny', reason: verdict.reason };
  if (single) {
    const bad = verdict.header.checkBody(unhex(c.message_hex!));
    return bad ? { decision: 'deny', reason: bad.reason } : { decision: 'allow' };
  }
  const sv = verdict.header.streamVerifier();
  for (const [i, f] of c.frames_hex!.entries()) {
    const opened = sv.open(Buffer.from(unhex(f)));
    if (!opened.ok) return { decision: 'deny', reason: opened.reason, at: i };
  }
  if (c.half_close && !sv.complete) return { decision: 'deny', reason: 'stream_truncated', at: 'half_close' };
  return { decision: 'allow' };
}

function verifierFor(v: NegativeVector): RequestVerifier {
  const ring: RootKeyring = {
    format: 'reqauth-root-keyring/v1',
    keys: [{ keyId: setup.key_id, secret: Buffer.from(unhex(setup.root_secret_hex)), status: 'active', created: '2025-01-01T00:00:00.000Z' }],
    deny: { keyIds: v.keyring?.deny_key_ids ?? [], principals: v.keyring?.deny_principals ?? [] },
  };
  const start = v.store_start_ms ?? setup.store_start_ms;
  const now = v.server_time_ms ?? setup.server_time_ms;
  const m = v.macaroons;
  return new RequestVerifier({
    keys: staticKeySource(ring, setup.audience),
    policy: new Policy({ ...setup.policy, ...v.policy }),
    replayStore: new MemoryReplayStore({ now: () => start }),
    maxAgeMs: setup.max_age_ms,
    maxFutureMs: setup.max_future_ms,
    now: () => now,
    ...(m
      ? {
          macaroons: macaroonAcceptance({
            keys: macaroonKeys({
              format: 'reqauth-macaroon-keyring/v1',
              keys: Object.entries(m.keys).map(([keyId, h], i) => ({ keyId, rootKey: Buffer.from(unhex(h)), status: i === 0 ? 'active' : 'verify' })),
              revoked: m.revoked ?? [],
            }),
            ...(m.accept_handoff ? { acceptHandoff: true, self: m.self! } : {}),
          }),
        }
      : {}),
  });
}

describe('negative vectors (test/vectors/negative-v1.json)', () => {
  it('has a vector for most reason codes', () => {
    expect(file.vectors.length).to.be.greaterThan(100);
  });

  for (const v of file.vectors) {
    const want = v.expect;
    it(`${v.name}: ${want.decision === 'deny' ? want.reason : 'allowed'}`, async () => {
      const verifier = verifierFor(v);
      for (const p of v.prior ?? []) expect(await run(verifier, p), 'prior call').to.deep.equal({ decision: 'allow' });
      const got = await run(verifier, v);
      if (want.decision === 'allow') {
        expect(got).to.deep.equal({ decision: 'allow' });
        return;
      }
      expect(got.decision, v.description).to.equal('deny');
      if (got.decision !== 'deny') return;
      expect(got.reason, v.description).to.equal(want.reason);
      expect(statusFor({ ok: false, reason: got.reason }).code).to.equal(want.status);
      if (want.at !== undefined) expect(got.at).to.equal(want.at);
    });
  }
});
