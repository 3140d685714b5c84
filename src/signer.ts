// The client half of the data path (docs/spec.md §4): (method, message bytes, credential)
// -> envelope bytes + MAC, and for request streams a StreamSigner for the messages.
import { ClientCredential } from './keys/credential';
import { LABELS, MAC_BYTES, MacKey, NonceSource } from './crypto';
import { ENVELOPE_VERSION, encodeEnvelope, encodeEnvelopeAfterHead } from './wire/envelope';
import { StreamSigner } from './wire/stream-tag';
import { ResponseVerifier } from './wire/response-tag';
import { encodeMacaroonCredential, MacaroonPresentation, possessionKey, possessionProof } from './macaroon/credential';

export interface SignedHeader {
  /** The value of `reqauth-envelope-bin`: `envelope` followed by `mac`, in one buffer. */
  readonly value: Buffer;
  readonly envelope: Buffer;
  readonly mac: Buffer;
}

export interface SignOptions {
  /** The end user the call is made for (asserted; a macaroon proves it). */
  readonly onBehalfOf?: string;
  /** A macaroon to present (spec §11); by default its signature is withheld and proven. */
  readonly macaroon?: MacaroonPresentation;
  /** A pre-encoded reqauth.v1.Credential for the envelope's `credential` field (low level). */
  readonly credential?: Uint8Array;
}

export interface RequestSignerOptions {
  now?: () => number;
}

/** A credential that can change while the client runs: a CredentialFile, say. */
export interface CredentialSource {
  current(): ClientCredential;
}

const EMPTY = new Uint8Array(0);
/** Bounds the encoded heads a signer keeps (one per method it calls). */
const MAX_HEADS = 256;

export class RequestSigner {
  private readonly nonces = new NonceSource();
  private readonly source: CredentialSource | undefined;
  private loaded: ClientCredential;
  private key: MacKey;
  private readonly now: () => number;
  /** Fields 1-7 of the envelope by method, for the credential `headsFor`, without a user. */
  private readonly heads = new Map<string, Buffer>();
  private headsFor: ClientCredential | undefined;
  /**
   * Added to the local clock for `issued_at`. Set it from the server time a clock refusal
   * carries (spec §6.4) — only from a server reached over a channel you trust.
   */
  clockOffsetMs = 0;

  /**
   * `credential` is fixed, or a source (a CredentialFile) read at every call: a reissued
   * credential (a rotation, other roles) signs the next call without a restart.
   */
  constructor(credential: ClientCredential | CredentialSource, options: RequestSignerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.source = isSource(credential) ? credential : undefined;
    this.loaded = isSource(credential) ? credential.current() : credential;
    this.key = new MacKey(this.loaded.principalKey);
  }

  /** The credential calls are signed with now. */
  get credential(): ClientCredential {
    return this.source ? this.refresh() : this.loaded;
  }

  /** The principal key for the credential in force, rebuilt only when the source changed it. */
  private get macKey(): MacKey {
    if (this.source) this.refresh();
    return this.key;
  }

  private refresh(): ClientCredential {
    const current = this.source!.current();
    if (current !== this.loaded) {
      this.key = new MacKey(current.principalKey);
      this.loaded = current;
    }
    return current;
  }

  /**
   * Signs the header of a call. `body` is the single request message of a unary or
   * server-streaming call, exactly as it will be framed; `undefined` for request streams.
   */
  sign(method: string, body: Uint8Array | undefined, options: SignOptions = {}): SignedHeader {
    return this.signWithKey(method, body, options).header;
  }

  /** Signs the header of a request stream and returns the tagger for its messages. */
  signStream(method: string, options: SignOptions = {}): { header: SignedHeader; tagger: StreamSigner } {
    const { header, key } = this.signWithKey(method, undefined, options);
    return { header, tagger: new StreamSigner(key, header.mac) };
  }

  /**
   * Signs a call whose responses the caller will verify (spec §13): the header, the tagger of
   * its request messages when it is a request stream (`body` undefined), and the verifier of
   * its responses, keyed like the call (the possession key with a macaroon, §11.2).
   */
  signWithResponses(
    method: string,
    body: Uint8Array | undefined,
    options: SignOptions = {},
  ): { header: SignedHeader; tagger: StreamSigner | undefined; responses: ResponseVerifier } {
    const { header, key } = this.signWithKey(method, body, options);
    return { header, tagger: body === undefined ? new StreamSigner(key, header.mac) : undefined, responses: new ResponseVerifier(key, header.mac) };
  }

  private signWithKey(method: string, body: Uint8Array | undefined, options: SignOptions): { header: SignedHeader; key: MacKey } {
    if (options.macaroon && options.credential) throw new Error('sign: give a macaroon or a pre-encoded credential, not both');
    const cred = this.credential; // refreshes the key first when a source changed it
    const principalKey = this.key;
    const macaroon = options.macaroon;
    const nonce = this.nonces.next();
    // With a macaroon, the call is keyed from its signature (§11.2): the credential carries a
    // proof of possession instead of the signature, and the stream tags use the same key.
    const callKey = macaroon ? possessionKey(principalKey, macaroon.root.signature) : principalKey;
    const credential = macaroon ? encodeMacaroonCredential(macaroon, possessionProof(callKey, nonce)) : (options.credential ?? EMPTY);
    const issuedAtMs = Math.round(this.now() + this.clockOffsetMs);
    const value = encodeEnvelopeAfterHead(this.head(cred, method, options.onBehalfOf ?? ''), nonce, issuedAtMs, body, credential, MAC_BYTES);
    // The request MAC is always under the principal key, so a verifier checks it before
    // reading anything else the envelope carries (§6.5).
    const bytes = value.subarray(0, value.length - MAC_BYTES);
    const mac = value.subarray(bytes.length);
    principalKey.writeMac(mac, LABELS.requestMac, bytes);
    return { header: { value, envelope: bytes, mac }, key: callKey };
  }

  /**
   * The envelope's fields 1-7 (version, key id, principal, roles, user, audience, method): the
   * same for every call of a method with this credential and no user, so encoded once.
   */
  private head(cred: ClientCredential, method: string, onBehalfOf: string): Buffer {
    if (onBehalfOf !== '') return encodeHead(cred, method, onBehalfOf);
    if (this.headsFor !== cred) {
      this.heads.clear(); // a reissued credential: other key id, principal or roles
      this.headsFor = cred;
    }
    let head = this.heads.get(method);
    if (head === undefined) {
      if (this.heads.size >= MAX_HEADS) this.heads.clear();
      head = encodeHead(cred, method, '');
      this.heads.set(method, head);
    }
    return head;
  }

  /**
   * Adopts the server's time from a clock refusal (spec §6.4), measured against this
   * signer's own clock.
   */
  adoptServerTime(serverTimeMs: number): void {
    this.clockOffsetMs = serverTimeMs - this.now();
  }

  /** The tagger for a request stream whose header `sign` made without a macaroon. */
  streamSigner(header: SignedHeader): StreamSigner {
    return new StreamSigner(this.macKey, header.mac);
  }
}

function encodeHead(cred: ClientCredential, method: string, onBehalfOf: string): Buffer {
  return encodeEnvelope({
    version: ENVELOPE_VERSION,
    keyId: cred.keyId,
    principal: cred.principal,
    roles: cred.roles,
    onBehalfOf,
    audience: cred.audience,
    method,
    nonce: EMPTY,
    issuedAtMs: 0,
    bodyDigest: EMPTY,
    credential: EMPTY,
  });
}

function isSource(credential: ClientCredential | CredentialSource): credential is CredentialSource {
  return typeof (credential as Partial<CredentialSource>).current === 'function';
}
