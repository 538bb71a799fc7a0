/**
 * Money is counted in integer micro-dollars (1e-6 USD) everywhere it is added
 * up: float sums drift, and a budget check must not.
 */
export const MICROS_PER_USD = 1_000_000;

export function usdToMicros(usd: number): number {
  return Math.round(usd * MICROS_PER_USD);
}

export function microsToUsd(micros: number): number {
  return micros / MICROS_PER_USD;
}

/** Per-million-token prices, as a model states them. */
export interface TokenPrice {
  readonly inputPerMTok: number;
  readonly outputPerMTok: number;
}

/** The tokens an attempt was charged for. */
export interface TokenCount {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** Cost of tokens at per-million-token prices, rounded up to a whole micro-dollar. */
export function tokenCostMicros(promptTokens: number, completionTokens: number, price: TokenPrice): number {
  return Math.ceil(promptTokens * price.inputPerMTok + completionTokens * price.outputPerMTok);
}

/** The same cost in US dollars: what a routing record books and a settle charges, to the micro-dollar. */
export function tokenCostUsd(tokens: TokenCount, price: TokenPrice): number {
  return microsToUsd(tokenCostMicros(tokens.promptTokens, tokens.completionTokens, price));
}
