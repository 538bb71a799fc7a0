const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * `n.toString(36)`, for counters formatted on every call: V8 writes a radix
 * string through fmod for each digit (~2,000 instructions for a six-digit
 * number); this is a few divisions. Other numbers go to toString itself.
 */
export function base36(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) return n.toString(36);
  let text = DIGITS[n % 36]!;
  for (let rest = Math.floor(n / 36); rest > 0; rest = Math.floor(rest / 36)) text = DIGITS[rest % 36]! + text;
  return text;
}
