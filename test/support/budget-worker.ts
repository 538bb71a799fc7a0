/**
 * A second gateway process for the shared-budget test: one router on the
 * shared Redis ledger, a burst of calls, the tally on stdout as JSON.
 */
import { type PolicyDocument } from '@llm-router/nestjs';
import { RedisBudgetLedgerStore } from '@llm-router/nestjs/redis';
import { budgetLoad } from './budget-load.js';

const policy = JSON.parse(process.env.BUDGET_POLICY!) as PolicyDocument;
const ledger = new RedisBudgetLedgerStore({ url: process.env.REDIS_URL!, keyPrefix: process.env.KEY_PREFIX! });
const result = await budgetLoad(policy, process.env.TENANT!, Number(process.env.COUNT), { budgetLedger: ledger });
await ledger.close();
process.stdout.write(JSON.stringify(result));
