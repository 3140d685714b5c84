// Types for the npm `macaroon` package (go-macaroon/js-macaroon, a dev dependency used by
// the interop tests and the bench), which ships none. Only what those use.
declare module 'macaroon' {
  type Bytes = Uint8Array | string;
  export interface JsMacaroon {
    readonly location: string;
    readonly identifier: Uint8Array;
    readonly signature: Uint8Array;
    readonly caveats: readonly { identifier: Uint8Array; location?: string; vid?: Uint8Array }[];
    addFirstPartyCaveat(condition: Bytes): void;
    addThirdPartyCaveat(rootKey: Bytes, caveatId: Bytes, location?: string): void;
    bindToRoot(rootSignature: Uint8Array): void;
    clone(): JsMacaroon;
    /** Throws when verification fails; `check` returns an error string, or null when satisfied. */
    verify(rootKey: Bytes, check: (condition: string) => string | null | undefined, discharges?: JsMacaroon[]): void;
    /** V1 JSON (identifier/signature/caveats) or V2 JSON (v/i/s/c), by the macaroon's version. */
    exportJSON(): Record<string, unknown>;
    /** V2 binary; throws for a version 1 macaroon. */
    exportBinary(): Uint8Array;
  }
  export function newMacaroon(opts: { identifier: Bytes; rootKey: Bytes; location?: string; version?: 1 | 2 }): JsMacaroon;
  /** A base64 string or bytes (V1 or V2 binary), or an object decoded from V1 or V2 JSON. */
  export function importMacaroon(obj: string | Uint8Array | object): JsMacaroon;
  export function importMacaroons(obj: string | Uint8Array | object): JsMacaroon[];
  export function bytesToBase64(bytes: Uint8Array): string;
  export function base64ToBytes(s: string): Uint8Array;
}
