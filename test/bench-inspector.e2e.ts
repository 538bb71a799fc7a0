/**
 * bench/src/inspector.ts reaches a measured process's inspector (opened by SIGUSR1) at the address the process
 * prints, even when the process writes many lines right after it, as a gateway under load writes its request log:
 * the address used to be looked for in the output's last 40 lines only, and a soak whose gateway's log had pushed it
 * out of them never found it (every sample's full collection failed, and the search starved the soak's client).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectedMemory, INSPECTABLE } from '../bench/src/inspector.js';
import { startOnFreePort, stopService } from '../bench/src/processes.js';
import { tempDir } from './gateway-support/harness.js';

// An HTTP server that, once its inspector is open (SIGUSR1: a handler of its own would keep it closed), prints 50 lines
// a millisecond.
const NOISY = `
const http = require('node:http');
const inspector = require('node:inspector');
setInterval(() => {
  if (inspector.url()) for (let i = 0; i < 50; i++) console.log('request ' + i + ' ' + 'x'.repeat(200));
}, 1);
http.createServer((req, res) => res.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');
`;

test("the inspector is reached behind a flood of output printed after its address", async () => {
  const dir = tempDir();
  const svc = await startOnFreePort((port) => ({ name: 'noisy', port, args: [INSPECTABLE, '-e', NOISY], logDir: dir.path, env: { PORT: String(port) }, readyPath: '/' }));
  try {
    const m = await collectedMemory(svc);
    assert.ok(m.rssMB > 0 && m.heapUsedMB > 0, JSON.stringify(m));
  } finally {
    await stopService(svc);
    dir.remove();
  }
});
