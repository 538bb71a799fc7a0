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

/** Cost of tokens at per-million-token prices, rounded up to a whole micro-dollar. */
export function tokenCostMicros(promptTokens: number, completionTokens: number, price: { inputPerMTok: number; outputPerMTok: number }): number {
  return Math.ceil(promptTokens * price.inputPerMTok + completionTokens * price.outputPerMTok);
}
