import assert from 'node:assert/strict';
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { SENT_HEAD, TickWriter } from './tick-writer.js';

describe('TickWriter', () => {
  it('lets go of the head text once sent; headers stay sent, the answer whole', async () => {
    const long = 'v'.repeat(400);
    const seen: { header: unknown; headersSent: boolean; rewrite?: string } = { header: undefined, headersSent: false };
    const server = createServer((_req, res: ServerResponse) => {
      const out = new TickWriter(res);
      out.writeHead(200, ['content-type', 'text/plain', 'x-long', long]);
      out.write('one,');
      setImmediate(() => {
        seen.header = (res as unknown as { _header: unknown })._header;
        seen.headersSent = res.headersSent;
        try {
          res.setHeader('x-late', '1');
        } catch (err) {
          seen.rewrite = (err as { code?: string }).code;
        }
        out.write('two,');
        out.end('three');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { status, headers, body } = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
        request({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, method: 'GET' }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        })
          .on('error', reject)
          .end();
      });
      assert.equal(status, 200);
      assert.equal(headers['x-long'], long);
      assert.equal(headers['x-late'], undefined);
      assert.equal(body, 'one,two,three');
      assert.equal(seen.header, SENT_HEAD);
      assert.equal(seen.headersSent, true);
      assert.equal(seen.rewrite, 'ERR_HTTP_HEADERS_SENT');
    } finally {
      server.close();
    }
  });
});
