import { unixSeconds } from '@llm-router/nestjs';
import type { StoredFile } from '../store/batch-store.js';

/** A file as OpenAI's Files API shows it. */
export function fileView(file: StoredFile) {
  return {
    id: file.id,
    object: 'file' as const,
    bytes: file.bytes,
    created_at: unixSeconds(file.createdAt),
    expires_at: null,
    filename: file.filename,
    purpose: file.purpose,
    status: 'processed' as const,
    status_details: null,
  };
}
