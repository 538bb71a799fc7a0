import { BadRequestException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import type { Principal } from '../auth/key-scope.js';
import { openAiError } from '../errors/openai-error.js';
import type { GatewayStore, ResponseOwner, StoredResponse } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';
import { newId } from './response-ids.js';
import type { ConversationItem, ResponseObject, ResponsesRequest } from './response.types.js';

/** The longest chain of responses one request may continue. */
const MAX_CHAIN = 1_000;

/**
 * The owner of stored responses (`store`, the default): each is kept on the
 * gateway's SQL store under the tenant and key that created it, and only
 * they may read it, delete it or continue it (to anyone else it does not
 * exist: 404). A conversation is the chain of previous_response_id links,
 * rebuilt from every earlier input and output item.
 */
@Injectable()
export class StoredResponsesService {
  private readonly logger = new Logger('Responses');

  constructor(@Inject(GATEWAY_STORE) private readonly store: GatewayStore) {}

  ownerOf(principal: Principal | null): ResponseOwner {
    return { tenant: principal?.tenant ?? '', keyId: principal?.keyId ?? '' };
  }

  /**
   * The conversation `previousId` ends: the id of its first response, and
   * every item, oldest first: each response's input, then its output.
   */
  async conversation(previousId: string, owner: ResponseOwner): Promise<{ firstId: string; items: ConversationItem[] }> {
    const chain = await this.chain(previousId, owner, 'previous_response_id');
    return { firstId: chain[0]!.id, items: chain.flatMap((row) => [...inputOf(row), ...outputOf(row)]) };
  }

  /** The items response `id` was generated from, oldest first: the earlier conversation and its own input. */
  async inputItems(id: string, owner: ResponseOwner): Promise<ConversationItem[]> {
    const chain = await this.chain(id, owner, 'response_id');
    return chain.flatMap((row, i) => (i === chain.length - 1 ? inputOf(row) : [...inputOf(row), ...outputOf(row)]));
  }

  /** The owner's response `id` and every one before it, oldest first; 404 when it is missing or its chain broken by a deletion. */
  private async chain(id: string, owner: ResponseOwner, param: string): Promise<StoredResponse[]> {
    const chain = await this.store.responseChain(id, owner, MAX_CHAIN);
    const what = param === 'previous_response_id' ? 'Previous response' : 'Response';
    if (chain.length === 0) throw new NotFoundException(openAiError(`${what} with id '${id}' not found.`, 'invalid_request_error', param === 'previous_response_id' ? 'previous_response_not_found' : 'not_found', param));
    const first = chain[0]!;
    if (first.previousResponseId === null) return chain;
    if (chain.length === MAX_CHAIN) {
      throw new BadRequestException(openAiError(`The conversation of '${id}' is longer than ${MAX_CHAIN} responses: start a new one.`, 'invalid_request_error', 'conversation_too_long', param));
    }
    throw new NotFoundException(
      openAiError(
        `The conversation of '${id}' cannot be rebuilt: its earlier response '${first.previousResponseId}' was deleted.`,
        'invalid_request_error',
        param === 'previous_response_id' ? 'previous_response_not_found' : 'not_found',
        param,
      ),
    );
  }

  /** Stores a finished response; false (logged) when the store refused it: the caller is told it was not stored. */
  async save(response: ResponseObject, request: ResponsesRequest, owner: ResponseOwner): Promise<boolean> {
    try {
      await this.store.insertResponse({
        id: response.id,
        ...owner,
        previousResponseId: request.previous_response_id ?? null,
        createdAt: response.created_at * 1000,
        inputItems: JSON.stringify(request.input.map(withId)),
        response: JSON.stringify(response),
      });
      return true;
    } catch (err) {
      this.logger.error(`response ${response.id} could not be stored: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
  }

  async find(id: string, owner: ResponseOwner): Promise<ResponseObject> {
    const row = await this.store.findResponse(id, owner);
    if (row === undefined) throw notFound(id);
    return JSON.parse(row.response) as ResponseObject;
  }

  async delete(id: string, owner: ResponseOwner): Promise<void> {
    if (!(await this.store.deleteResponse(id, owner))) throw notFound(id);
  }
}

const inputOf = (row: StoredResponse) => JSON.parse(row.inputItems) as ConversationItem[];
const outputOf = (row: StoredResponse) => (JSON.parse(row.response) as ResponseObject).output;

/** Every stored item has an id, as OpenAI's do (input items listed later are named by it). */
function withId(item: ConversationItem): ConversationItem {
  if (item.id !== undefined) return item;
  return { ...item, id: newId(item.type === 'message' ? 'msg' : item.type === 'function_call' ? 'fc' : 'fco') };
}

function notFound(id: string): NotFoundException {
  return new NotFoundException(openAiError(`Response with id '${id}' not found.`, 'invalid_request_error', 'not_found', 'response_id'));
}
