/**
 * One simulator log line: a JSON object with the gateway's fields (time,
 * level, context, msg), so that a simulator beside a gateway (or embedded in
 * it) logs in the same shape. Errors go to stderr, like Nest's.
 */
export function logLine(level: 'info' | 'error', msg: string): void {
  const line = `${JSON.stringify({ time: new Date().toISOString(), level, context: 'Simulator', msg })}\n`;
  (level === 'error' ? process.stderr : process.stdout).write(line);
}
