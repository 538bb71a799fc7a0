import { BadRequestException, HttpException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import '@fastify/multipart';
import { openAiError } from '../errors/openai-error.js';

/** A `POST /v1/files` form, read whole: the `file` part within the size limit and the `purpose` field. */
export interface Upload {
  purpose: string | undefined;
  filename: string;
  content: Buffer;
}

/**
 * Reads a multipart upload. The size limit is enforced while the file
 * streams in (the plugin's `fileSize`, set from LLM_FILE_LIMIT_BYTES; a
 * declared Content-Length over it was refused before any byte was read): a
 * file over it is a 413 and nothing is kept.
 */
export async function readUpload(request: FastifyRequest, limitBytes: number): Promise<Upload> {
  if (!request.isMultipart()) {
    throw new BadRequestException(openAiError("The request must be multipart/form-data with a 'file' and a 'purpose'.", 'invalid_request_error', 'invalid_content_type'));
  }
  let purpose: string | undefined;
  let file: { filename: string; content: Buffer } | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file' || file !== undefined) {
          await part.toBuffer();
          throw new BadRequestException(openAiError(`Unexpected file field '${part.fieldname}': send one file as 'file'.`, 'invalid_request_error', 'invalid_value', part.fieldname));
        }
        file = { filename: part.filename || 'upload.jsonl', content: await part.toBuffer() };
      } else if (part.fieldname === 'purpose') {
        purpose = String(part.value);
      }
    }
  } catch (err) {
    throw asOpenAiError(err, limitBytes);
  }
  if (file === undefined) throw new BadRequestException(openAiError("Missing required parameter: 'file'.", 'invalid_request_error', 'missing_required_parameter', 'file'));
  return { purpose, ...file };
}

/** The plugin's errors (size and part limits, malformed multipart) in the OpenAI shape. */
function asOpenAiError(err: unknown, limitBytes: number): unknown {
  if (err instanceof HttpException) return err;
  const { code, statusCode, message } = err as { code?: string; statusCode?: number; message?: string };
  if (code === 'FST_REQ_FILE_TOO_LARGE') {
    return new HttpException(openAiError(`The file is larger than the limit of ${limitBytes} bytes.`, 'invalid_request_error', 'file_too_large', 'file'), 413);
  }
  if (statusCode === 413) return new HttpException(openAiError(`The form has too many parts: send one 'file' and a 'purpose'.`, 'invalid_request_error', 'request_too_large'), 413);
  // Anything else the parser threw is a malformed form (a missing boundary, a part cut short).
  return new BadRequestException(openAiError(`The multipart body could not be read: ${message ?? code ?? 'malformed'}.`, 'invalid_request_error', 'invalid_multipart'));
}
