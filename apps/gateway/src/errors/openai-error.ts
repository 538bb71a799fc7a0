/** The OpenAI error body every gateway error uses. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null; [extra: string]: unknown };
}

export function openAiError(message: string, type: string, code: string | null, param: string | null = null): OpenAiErrorBody {
  return { error: { message, type, code, param } };
}
