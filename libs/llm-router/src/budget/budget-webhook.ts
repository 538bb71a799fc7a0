import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { BudgetEvent } from './budget.types.js';

/**
 * POSTs each threshold event as JSON to the configured URL. Best effort with a
 * short timeout: a slow or dead webhook never holds up a routed call.
 */
export function postBudgetEvent(url: string, event: BudgetEvent, timeoutMs = 2_000): Promise<number | undefined> {
  const body = JSON.stringify(event);
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = send(target, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('webhook timeout')));
    req.on('error', () => resolve(undefined));
    req.end(body);
  });
}

/**
 * Posts an event to the `budgets.webhookUrl` of the policy in force when it
 * happens (a reload that changes or removes the URL applies from the next
 * event on); fire and forget, never in a call's way.
 */
export function postToPolicyWebhook(event: BudgetEvent, policy: CompiledPolicy): void {
  const url = policy.budgets.webhookUrl;
  if (url) void postBudgetEvent(url, event);
}
