// `@gatehouse/models/testing`: a local server speaking the OpenAI and Anthropic wire formats, for tests that
// drive the real SDK clients.
export {
  createProviderServer,
  type ProviderServer,
  type ProviderServerOptions,
  type ScriptMatch,
} from './provider-server.js';
export {
  type AnswerOptions,
  type AnswerStep,
  type DelayStep,
  type ErrorStep,
  type FinishReason,
  type MalformedStep,
  type RawStep,
  type RecordedRequest,
  type ResetStep,
  reply,
  type ScriptedAnswer,
  type ScriptedToolCall,
  type ScriptedUsage,
  type Step,
  type StepFunction,
  type StreamDelivery,
  type StreamFailure,
} from './reply.js';
