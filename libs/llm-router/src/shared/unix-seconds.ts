/** A time in milliseconds as the OpenAI objects show times: whole Unix seconds (null stays null). */
export function unixSeconds(ms: number): number;
export function unixSeconds(ms: number | null | undefined): number | null;
export function unixSeconds(ms: number | null | undefined): number | null {
  return ms === null || ms === undefined ? null : Math.floor(ms / 1000);
}
