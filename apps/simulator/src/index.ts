/** Simulated LLM provider (OpenAI and Anthropic wire formats) with fault injection. */
export {
  startSimulator,
  OPENAI_PATH,
  ANTHROPIC_PATH,
  type SimulatorHandle,
  type SimulatorOptions,
  type SimulatorStats,
} from './simulator.server.js';
export {
  ERROR_KINDS,
  FaultBook,
  FaultRuleError,
  findDirectives,
  parseDirective,
  parseFault,
  parseFaultHeader,
  parseFaultRule,
  parseFaultRules,
  resolveFault,
  ruleMatches,
  type ActiveFaultRule,
  type ErrorKind,
  type Fault,
  type FaultDirective,
  type FaultMatch,
  type FaultRule,
  type RequestTraits,
  type SimFormat,
} from './fault-rules.js';
export { openaiFormat } from './openai-format.js';
export { anthropicFormat } from './anthropic-format.js';
export { splitChunks, type WireFormat, type SimRequest, type ReplyPlan, type StreamScript, type ErrorReply } from './wire-format.js';
