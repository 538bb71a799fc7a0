/** The Batch API from the official `openai` client: upload a JSONL file, wait for a batch, read an output file. */
import OpenAI, { toFile } from 'openai';
import { until } from '../gateway-support/harness.js';

export const jsonl = (lines: unknown[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';
export const batchLine = (customId: string, content: string, extra: Record<string, unknown> = {}) => ({
  custom_id: customId,
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model: 'auto', messages: [{ role: 'user', content }] },
  ...extra,
});

/** A `purpose=batch` file of these lines (objects are written as JSON, strings as they are). */
export async function uploadBatchFile(client: OpenAI, lines: unknown[]) {
  return client.files.create({ file: await toFile(Buffer.from(jsonl(lines)), 'input.jsonl'), purpose: 'batch' });
}

/** Polls `batches.retrieve` until `done` (by default: a final status). */
export async function waitForBatch(client: OpenAI, id: string, done: (b: OpenAI.Batches.Batch) => boolean = (b) => ['completed', 'failed', 'expired', 'cancelled'].includes(b.status), timeoutMs = 60_000) {
  let batch = await client.batches.retrieve(id);
  await until(async () => done((batch = await client.batches.retrieve(id))), `batch ${id} (last status ${batch.status})`, timeoutMs);
  return batch;
}

/** An output or error file's lines, parsed. */
export async function outputLines(client: OpenAI, fileId: string | null | undefined): Promise<any[]> {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

