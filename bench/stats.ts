// Small statistics for the bench: medians, pooled percentiles, paired ratios.

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly rounds: readonly number[];
}

export function spread(rounds: readonly number[]): Spread {
  return { median: median(rounds), min: Math.min(...rounds), max: Math.max(...rounds), rounds };
}

/**
 * Round-by-round ratios a[r] / b[r]. Both sides of a round ran back to back, so a slow drift
 * of a shared machine loads them alike; the median of these is steadier than a ratio of
 * medians.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): Spread {
  return spread(a.map((x, i) => x / b[i]!));
}

/** Round-by-round differences a[r] - b[r] (CPU per call above another configuration's). */
export function pairedDiff(a: readonly number[], b: readonly number[]): Spread {
  return spread(a.map((x, i) => x - b[i]!));
}

/** p50 and p99 over all samples of all rounds (nearest rank). */
export function percentiles(chunks: readonly Float64Array[]): { p50: number; p99: number; samples: number } {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const all = new Float64Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  all.sort();
  const pick = (q: number) => (total === 0 ? NaN : all[Math.min(total - 1, Math.floor(q * total))]!);
  return { p50: pick(0.5), p99: pick(0.99), samples: total };
}
