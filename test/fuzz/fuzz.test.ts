// Property tests over every decoder and the whole header verification (issue 8 item 10):
// generated input from a fixed seed (test/fuzz/support.ts), asserting that nothing throws,
// that decoders stay within their bounds, and that no mutation of a valid request or of a
// stream's frames is ever accepted. The suites live in *.fuzz.ts; this file runs them all
// and checks that together they generated at least 100,000 cases.
import { expect } from 'chai';
import { credentialProperties } from './credential.fuzz';
import { envelopeProperties } from './envelope.fuzz';
import { headerProperties } from './header.fuzz';
import { macaroonProperties } from './macaroon.fuzz';
import { responseProperties } from './response.fuzz';
import { streamProperties } from './stream.fuzz';
import { generatedCases, SEED } from './support';

const MIN_CASES = 100_000;

describe(`fuzzing (fast-check, seed ${SEED})`, () => {
  let started = 0;
  before(() => (started = Date.now()));
  envelopeProperties();
  credentialProperties();
  macaroonProperties();
  streamProperties();
  responseProperties();
  headerProperties();

  // Registered last, so mocha runs it after every suite above.
  describe('in all', () => {
    it(`generated at least ${MIN_CASES.toLocaleString('en')} cases`, () => {
      const n = generatedCases();
      console.log(`      ${n.toLocaleString('en')} generated cases in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      expect(n).to.be.at.least(MIN_CASES);
    });
  });
});
