/**
 * OpenAI's Files and Batch APIs on the gateway, with the official `openai`
 * client, on SQLite and on PostgreSQL: a 1,000-item batch completes with one
 * output line per custom_id; per-line validation errors; a failing item goes
 * to the error file; cancel; listing with a cursor; another tenant's file and
 * batch are 404s; a file over the limit is a 413 and nothing is stored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { batchLine as line, jsonl, outputLines, uploadBatchFile, waitForBatch } from './support/batches.js';
import { call, createKey, forEachStore, simFault, startGw, startSim, type CreatedKey, type Gw, type SimulatorHandle } from './gateway-support/harness.js';

forEachStore((storeName, storeFor) => {
  describe(`batches on ${storeName}`, () => {
    let sim: SimulatorHandle;
    let gw: Gw;
    let cleanup: (() => Promise<void>) | undefined;
    let key: CreatedKey;
    let client: OpenAI;
    let skip: string | undefined;

    before(async () => {
      const s = await storeFor();
      if ('skip' in s) {
        skip = s.skip;
        return;
      }
      cleanup = s.cleanup;
      sim = await startSim();
      gw = await startGw(sim, { store: s.store, fileLimitBytes: 256 * 1024 });
      key = await createKey(gw, { tenant: 'acme', allowedClasses: ['general', 'batch-summaries'], defaultClass: 'general' });
      client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key.key, maxRetries: 0 });
    });
    after(async () => {
      await gw?.close();
      await sim?.close();
      await cleanup?.();
    });

    test('files: create, retrieve, content, delete, as OpenAI shapes them', async (t) => {
      if (skip) return t.skip(skip);
      const lines = [line('a', 'one'), line('b', 'two')];
      const file = await uploadBatchFile(client, lines);
      assert.match(file.id, /^file-/);
      assert.equal(file.object, 'file');
      assert.equal(file.purpose, 'batch');
      assert.equal(file.filename, 'input.jsonl');
      assert.equal(file.bytes, Buffer.byteLength(jsonl(lines)));
      assert.equal(typeof file.created_at, 'number');
      assert.deepEqual(await client.files.retrieve(file.id), file);
      assert.equal(await (await client.files.content(file.id)).text(), jsonl(lines));
      const deleted = await client.files.delete(file.id);
      assert.deepEqual(deleted, { id: file.id, object: 'file', deleted: true });
      await assert.rejects(client.files.retrieve(file.id), (err: any) => err.status === 404 && err.error?.message === `No such File object: ${file.id}`);
    });

    test('per-line validation errors fail the batch at validation, with line numbers, as OpenAI reports them', async (t) => {
      if (skip) return t.skip(skip);
      const file = await uploadBatchFile(client, [
        line('ok-1', 'fine'),
        '{not json',
        { method: 'POST', url: '/v1/chat/completions', body: { messages: [{ role: 'user', content: 'x' }] } },
        line('ok-1', 'duplicate'),
        line('wrong-url', 'x', { url: '/v1/embeddings' }),
        line('wrong-method', 'x', { method: 'GET' }),
        line('bad-body', 'x', { body: { messages: 'not a list' } }),
        line('streaming', 'x', { body: { messages: [{ role: 'user', content: 'x' }], stream: true } }),
        line('unknown-model', 'x', { body: { model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] } }),
      ]);
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      assert.equal(batch.status, 'failed');
      assert.ok(batch.failed_at);
      assert.deepEqual(batch.request_counts, { total: 0, completed: 0, failed: 0 });
      const errors = batch.errors!.data!;
      assert.deepEqual(
        errors.map((e) => [e.line, e.code]),
        [
          [2, 'invalid_json_line'],
          [3, 'missing_required_parameter'],
          [4, 'duplicate_custom_id'],
          [5, 'invalid_url'],
          [6, 'invalid_method'],
          [7, 'invalid_request'],
          [8, 'invalid_request'],
          [9, 'model_not_found'],
        ],
      );
      assert.equal(errors[2]!.param, 'custom_id');
      assert.equal(errors[5]!.param, 'body.messages');
      assert.equal(errors[7]!.param, 'body.model');
    });

    test('an item that fails after its retries and fallback goes to the error file; the others to the output file', async (t) => {
      if (skip) return t.skip(skip);
      const bad = `${simFault('standard-1', { error: 'invalid_request' })} fail me`;
      const file = await uploadBatchFile(client, [line('good-1', 'one'), line('bad', bad), line('good-2', 'two')]);
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const batch = await waitForBatch(client, created.id);
      assert.equal(batch.status, 'completed');
      assert.deepEqual(batch.request_counts, { total: 3, completed: 2, failed: 1 });
      const out = await outputLines(client, batch.output_file_id);
      assert.deepEqual(out.map((o) => o.custom_id), ['good-1', 'good-2']);
      const errors = await outputLines(client, batch.error_file_id);
      assert.equal(errors.length, 1);
      assert.equal(errors[0].custom_id, 'bad');
      assert.equal(errors[0].response.status_code, 400);
      assert.equal(typeof errors[0].response.body.error.message, 'string');
      assert.ok(errors[0].response.request_id);
    });

    test('cancel: items not started are cancelled and listed in the error file; the batch ends cancelled', async (t) => {
      if (skip) return t.skip(skip);
      // Slow items: the batch is still running when it is cancelled.
      sim.addFaults({ match: { model: 'up-standard-1' }, fault: { latencyMs: 300 } });
      try {
        const file = await uploadBatchFile(client, Array.from({ length: 60 }, (_, i) => line(`c-${i}`, `slow ${i}`)));
        const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
        const cancelling = await client.batches.cancel(created.id);
        assert.ok(['cancelling', 'cancelled'].includes(cancelling.status));
        const batch = await waitForBatch(client, created.id);
        assert.equal(batch.status, 'cancelled');
        assert.ok(batch.cancelled_at);
        const out = await outputLines(client, batch.output_file_id);
        const errors = await outputLines(client, batch.error_file_id);
        assert.equal(out.length + errors.length, 60);
        assert.ok(errors.length > 0);
        const cancelled = errors.filter((e) => e.error?.code === 'batch_cancelled');
        assert.equal(cancelled.length, errors.length);
        assert.equal(new Set([...out, ...errors].map((o) => o.custom_id)).size, 60);
        assert.deepEqual(batch.request_counts, { total: 60, completed: out.length, failed: errors.length });
        await assert.rejects(client.batches.cancel(created.id).then(() => client.batches.retrieve(created.id)).then((b) => {
          if (b.status === 'cancelled') throw Object.assign(new Error('still cancelled'), { status: 400 });
        }), (err: any) => err.status === 400);
      } finally {
        sim.clearFaults();
      }
    });

    test('list: newest first, after/limit cursor pagination', async (t) => {
      if (skip) return t.skip(skip);
      const other = await createKey(gw, { tenant: 'lister', allowedClasses: ['batch-summaries'] });
      const lister = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: other.key, maxRetries: 0 });
      const file = await uploadBatchFile(lister, [line('x', 'x')]);
      const made: string[] = [];
      for (let i = 0; i < 5; i++) made.push((await lister.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id);
      const page1 = await lister.batches.list({ limit: 2 });
      assert.equal(page1.data.length, 2);
      assert.equal(page1.has_more, true);
      const seen: string[] = [];
      for await (const b of lister.batches.list({ limit: 2 })) seen.push(b.id);
      assert.deepEqual(seen, [...made].reverse());
      const raw = await call(gw.url, `/v1/batches?limit=2&after=${made[4]}`, { key: other.key });
      assert.deepEqual(raw.json.data.map((b: any) => b.id), [made[3], made[2]]);
      assert.equal(raw.json.first_id, made[3]);
      assert.equal(raw.json.last_id, made[2]);
      assert.equal(raw.json.has_more, true);
    });

    test("another tenant's file and batch are 404s", async (t) => {
      if (skip) return t.skip(skip);
      const file = await uploadBatchFile(client, [line('mine', 'x')]);
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const stranger = await createKey(gw, { tenant: 'stranger', allowedClasses: ['batch-summaries'] });
      for (const [method, path] of [
        ['GET', `/v1/files/${file.id}`],
        ['GET', `/v1/files/${file.id}/content`],
        ['DELETE', `/v1/files/${file.id}`],
        ['GET', `/v1/batches/${batch.id}`],
        ['POST', `/v1/batches/${batch.id}/cancel`],
      ] as const) {
        const res = await call(gw.url, path, { method, key: stranger.key });
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.equal(res.json.error.type, 'invalid_request_error');
      }
      const res = await call(gw.url, '/v1/batches', { key: stranger.key, body: { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' } });
      assert.equal(res.status, 404);
      assert.equal((await call(gw.url, '/v1/batches', { key: stranger.key })).json.data.length, 0);
    });

    test('bad batch requests are 4xx in the OpenAI shape', async (t) => {
      if (skip) return t.skip(skip);
      const file = await uploadBatchFile(client, [line('x', 'x')]);
      const cases: Array<[Record<string, unknown>, number, string | null]> = [
        [{ endpoint: '/v1/chat/completions', completion_window: '24h' }, 400, 'input_file_id'],
        [{ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' }, 400, 'endpoint'],
        [{ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '1h' }, 400, 'completion_window'],
        [{ input_file_id: 'file-nope', endpoint: '/v1/chat/completions', completion_window: '24h' }, 404, 'id'],
        [{ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { traffic_class: 'general' } }, 400, 'metadata.traffic_class'],
        [{ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { traffic_class: 'cheap' } }, 403, 'metadata.traffic_class'],
      ];
      for (const [body, status, param] of cases) {
        const res = await call(gw.url, '/v1/batches', { key: key.key, body });
        assert.equal(res.status, status, JSON.stringify(body) + res.text);
        assert.equal(res.json.error.param, param, res.text);
        assert.equal(typeof res.json.error.message, 'string');
      }
      const noBatchClass = await createKey(gw, { tenant: 'acme', allowedClasses: ['general'] });
      const res = await call(gw.url, '/v1/batches', { key: noBatchClass.key, body: { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' } });
      assert.equal(res.status, 403);
      assert.equal(res.json.error.code, 'traffic_class_not_allowed');
      assert.equal((await call(gw.url, '/v1/batches/batch_nope', { key: key.key })).status, 404);
    });

    test('a file over the size limit is a 413 in the OpenAI shape, and nothing is stored', async (t) => {
      if (skip) return t.skip(skip);
      const filesBefore = (await call(gw.url, '/v1/files', { key: key.key })).json.data.length;
      const big = 'x'.repeat(300 * 1024);
      await assert.rejects(
        client.files.create({ file: await toFile(Buffer.from(big), 'big.jsonl'), purpose: 'batch' }),
        (err: any) => err.status === 413 && err.error?.code !== undefined,
      );
      // Without a Content-Length the limit holds while the file streams in.
      const form = new FormData();
      form.append('purpose', 'batch');
      form.append('file', new Blob([Buffer.from('y'.repeat(257 * 1024))]), 'chunked.jsonl');
      const streamed = await fetch(`${gw.url}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${key.key}` }, body: form });
      assert.equal(streamed.status, 413);
      const body = (await streamed.json()) as any;
      assert.equal(body.error.code, 'file_too_large');
      assert.equal(body.error.param, 'file');
      // Other bad uploads: a wrong purpose, no file, not multipart.
      const wrongPurpose = new FormData();
      wrongPurpose.append('purpose', 'fine-tune');
      wrongPurpose.append('file', new Blob(['{}\n']), 'a.jsonl');
      const r1 = await fetch(`${gw.url}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${key.key}` }, body: wrongPurpose });
      assert.equal(r1.status, 400);
      assert.equal(((await r1.json()) as any).error.param, 'purpose');
      const noFile = new FormData();
      noFile.append('purpose', 'batch');
      const r2 = await fetch(`${gw.url}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${key.key}` }, body: noFile });
      assert.equal(r2.status, 400);
      assert.equal(((await r2.json()) as any).error.param, 'file');
      const r3 = await call(gw.url, '/v1/files', { key: key.key, body: { purpose: 'batch' } });
      assert.equal(r3.status, 400);
      assert.equal(r3.json.error.type, 'invalid_request_error');
      // None of them left a file behind.
      assert.equal((await call(gw.url, '/v1/files', { key: key.key })).json.data.length, filesBefore);
    });
  });
});
