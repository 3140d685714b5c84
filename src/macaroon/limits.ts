// Bounds on untrusted macaroons. Every parser and the verifier check them before doing work
// proportional to the input, so a hostile token costs at most a bounded amount of memory and
// HMACs.

export interface MacaroonLimits {
  /** Decoded token bytes (V1 packets, V2 binary, or JSON text). */
  readonly maxBytes: number;
  /** Any single field: identifier, location, caveat id, verification id. */
  readonly maxFieldBytes: number;
  /** Caveats in one macaroon. */
  readonly maxCaveats: number;
  /** Discharge macaroons presented with one root macaroon. */
  readonly maxDischarges: number;
}

export const DEFAULT_MACAROON_LIMITS: MacaroonLimits = Object.freeze({
  maxBytes: 65536,
  maxFieldBytes: 16384,
  maxCaveats: 256,
  maxDischarges: 16,
});

export function withDefaults(limits: Partial<MacaroonLimits> | undefined): MacaroonLimits {
  return limits === undefined ? DEFAULT_MACAROON_LIMITS : { ...DEFAULT_MACAROON_LIMITS, ...limits };
}
