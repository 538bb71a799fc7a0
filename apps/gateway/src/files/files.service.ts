import { randomBytes } from 'node:crypto';
import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { z } from 'zod';
import { openAiError } from '../errors/openai-error.js';
import { parseOr400 } from '../errors/parse-or-400.js';
import { pageOf, type Page } from '../http/cursor-page.js';
import type { BatchStore, StoredFile } from '../store/batch-store.js';
import type { GatewayStore } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';
import type { Upload } from './read-upload.js';

/**
 * OpenAI's Files API on the gateway's store, per tenant: uploaded batch
 * inputs and the output and error files batches write. Another tenant's file
 * is a 404, as a missing one is.
 */
@Injectable()
export class FilesService {
  private readonly store: BatchStore;

  constructor(@Inject(GATEWAY_STORE) store: GatewayStore) {
    this.store = store.batches;
  }

  /** A `purpose=batch` upload: UTF-8 text (JSONL; its lines are validated when a batch is created from it). */
  async upload(tenant: string, upload: Upload, now = Date.now()): Promise<StoredFile> {
    if (upload.purpose !== 'batch') {
      const message = upload.purpose === undefined ? "Missing required parameter: 'purpose'." : `Unsupported purpose '${upload.purpose}': this gateway takes 'batch' files.`;
      throw new BadRequestException(openAiError(message, 'invalid_request_error', upload.purpose === undefined ? 'missing_required_parameter' : 'invalid_value', 'purpose'));
    }
    const content = upload.content.toString('utf8');
    // A NUL or a byte that is not UTF-8 cannot be a JSONL batch file (nor be stored as text).
    if (content.includes('\0') || content.includes('\uFFFD') && !Buffer.from(content, 'utf8').equals(upload.content)) {
      throw new BadRequestException(openAiError('A batch file must be UTF-8 text (JSONL).', 'invalid_request_error', 'invalid_file_format', 'file'));
    }
    return this.createBatchInput(tenant, upload.filename, content, now);
  }

  /** A batch input file made by the gateway itself (the sample workflow's documents as JSONL). */
  async createBatchInput(tenant: string, filename: string, content: string, now = Date.now()): Promise<StoredFile> {
    const file: StoredFile = { id: newFileId(), tenant, purpose: 'batch', filename, bytes: Buffer.byteLength(content), createdAt: now };
    await this.store.insertFile(file, content);
    return file;
  }

  /** A batch's output or error file, written once under an id derived from the batch (a second write is a no-op). */
  async writeOutput(tenant: string, id: string, filename: string, content: string, now = Date.now()): Promise<void> {
    await this.store.insertFile({ id, tenant, purpose: 'batch_output', filename, bytes: Buffer.byteLength(content), createdAt: now }, content);
  }

  async get(tenant: string, id: string): Promise<StoredFile> {
    const file = await this.store.getFile(tenant, id);
    if (!file) throw notFound(id);
    return file;
  }

  /** OpenAI's file list: newest first, `after`/`limit` (1 to 10,000, 10,000 by default), optionally one purpose. */
  async list(tenant: string, query: Record<string, unknown>): Promise<Page<StoredFile>> {
    const { limit, purpose, after } = parseOr400(listSchema, query);
    return pageOf(await this.store.listFiles(tenant, limit + 1, purpose, after), limit);
  }

  async content(tenant: string, id: string): Promise<string> {
    const content = await this.store.fileContent(tenant, id);
    if (content === undefined) throw notFound(id);
    return content;
  }

  async delete(tenant: string, id: string, now = Date.now()): Promise<void> {
    if (!(await this.store.deleteFile(tenant, id, now))) throw notFound(id);
  }
}

const listSchema = z.object({
  after: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
  purpose: z.string().min(1).optional(),
});

function notFound(id: string): NotFoundException {
  return new NotFoundException(openAiError(`No such File object: ${id}`, 'invalid_request_error', 'not_found', 'id'));
}

function newFileId(): string {
  return `file-${randomBytes(12).toString('hex')}`;
}
