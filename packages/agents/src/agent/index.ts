import { ConfigError } from '@gatehouse/core';
import type { ChatCompletionFunctionTool, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { z } from 'zod';
import { isLocalTool, type LocalTool } from '../tool/index.js';

/** When a run stops early; the run answers its partial result with `status: 'limit'` and the reason. */
export interface AgentLimits {
  /** Model calls per run (default 25). */
  steps?: number;
  /** Input plus output tokens of the whole session. */
  tokens?: number;
  /** Dollars of the whole session (needs a `cost` function in `agents({ cost })`). */
  dollars?: number;
  /** Wall time of one run (or resume), in milliseconds. */
  timeMs?: number;
}

/** A handoff to another agent, with an optional filter over the conversation it receives. */
export interface Handoff {
  readonly agent: Agent<any>;
  /** Rewrites the conversation the next agent sees (e.g. keeps only the user's messages). */
  readonly inputFilter?: (messages: ChatCompletionMessageParam[]) => ChatCompletionMessageParam[];
  readonly description?: string;
}

/** What a stop condition sees after each step. */
export interface StepSummary {
  readonly step: number;
  readonly agent: string;
  readonly text: string;
  readonly toolCalls: readonly { name: string; arguments: string }[];
}

export interface AgentOptions<Output = string> {
  /** Within `^[a-zA-Z0-9_-]{1,52}$` (it becomes part of `transfer_to_<name>`). */
  name: string;
  instructions: string;
  /** A route alias or model name of the models layer. */
  model: string;
  description?: string;
  /** Local tools, and tool-layer tool names or globs (`github__*`). */
  tools?: readonly (LocalTool | string)[];
  /** Agents this one may hand the conversation to, as `transfer_to_<agent>` tools. */
  handoffs?: readonly (Agent<any> | Handoff)[];
  /** Validates the final answer (parsed as JSON); one corrective retry, then an `OutputValidationError`. */
  outputSchema?: z.ZodType<Output>;
  limits?: AgentLimits;
  /** Ends the run after a step when it answers true (status `stopped`). */
  stopWhen?: (step: StepSummary) => boolean;
  /** Sampling settings passed with each model call. */
  settings?: { temperature?: number; max_tokens?: number; top_p?: number };
}

/** An agent definition, compiled once by `defineAgent`. */
export interface Agent<Output = string> {
  readonly kind: 'agent';
  readonly name: string;
  readonly instructions: string;
  readonly model: string;
  readonly description: string | undefined;
  readonly outputSchema: z.ZodType<Output> | undefined;
  readonly limits: AgentLimits;
  readonly stopWhen: ((step: StepSummary) => boolean) | undefined;
  readonly settings: AgentOptions['settings'];
  /** Local tools by name (`asTool` agents included). */
  readonly localTools: ReadonlyMap<string, LocalTool>;
  /** Tool-layer names and globs, compiled. */
  readonly toolPatterns: readonly RegExp[];
  /** Handoffs by their tool name (`transfer_to_<agent>`). */
  readonly handoffs: ReadonlyMap<string, Handoff>;
  /** The model-facing definitions of the local and handoff tools, built once. */
  readonly staticTools: readonly ChatCompletionFunctionTool[];
  /** The system message, with the output schema's JSON schema appended when there is one. */
  readonly system: ChatCompletionMessageParam;
}

const agentNamePattern = /^[a-zA-Z0-9_-]{1,52}$/;
const patternSpecials = /[.+?^${}()|[\]\\]/g;

function compileGlob(glob: string): RegExp {
  return new RegExp(`^${glob.replace(patternSpecials, '\\$&').replace(/\*/g, '.*')}$`);
}

function fail(message: string, path: string): never {
  throw new ConfigError({ message, path });
}

/**
 * Defines an agent: a name, instructions, a model, tools and handoffs. Everything the runner needs on each
 * step (tool definitions, glob patterns, the system message) is computed here, once.
 *
 * @example
 * const analyst = defineAgent({
 *   name: 'analyst',
 *   instructions: 'Assess the risk of the supplier you are given.',
 *   model: 'contracts',
 *   tools: ['jira__*', scoreTool],
 *   handoffs: [notifier],
 *   outputSchema: z.object({ risk: z.enum(['low', 'high']) }),
 *   limits: { steps: 10, dollars: 0.5 },
 * });
 */
export function defineAgent<Output = string>(options: AgentOptions<Output>): Agent<Output> {
  if (typeof options?.name !== 'string' || !agentNamePattern.test(options.name)) {
    fail(`defineAgent(): name ${JSON.stringify(options?.name)} must match ^[a-zA-Z0-9_-]{1,52}$`, 'agent.name');
  }
  const at = `agent ${options.name}`;
  if (typeof options.instructions !== 'string') fail(`${at}: instructions must be a string`, 'agent.instructions');
  if (typeof options.model !== 'string' || options.model === '') {
    fail(`${at}: model must be a route alias or model name`, 'agent.model');
  }
  const localTools = new Map<string, LocalTool>();
  const toolPatterns: RegExp[] = [];
  for (const [index, entry] of (options.tools ?? []).entries()) {
    if (typeof entry === 'string') {
      if (!/^[a-zA-Z0-9_*-]{1,64}$/.test(entry)) {
        fail(`${at}: tools[${index}] ${JSON.stringify(entry)} is not a tool name or glob`, `agent.tools.${index}`);
      }
      toolPatterns.push(compileGlob(entry));
    } else if (isLocalTool(entry)) {
      if (localTools.has(entry.name)) fail(`${at}: two tools are named ${entry.name}`, `agent.tools.${index}`);
      localTools.set(entry.name, entry);
    } else {
      fail(`${at}: tools[${index}] must be a tool name, a glob or tool({ … })`, `agent.tools.${index}`);
    }
  }
  const handoffs = new Map<string, Handoff>();
  for (const [index, entry] of (options.handoffs ?? []).entries()) {
    const handoff: Handoff | undefined =
      (entry as Agent).kind === 'agent'
        ? { agent: entry as Agent }
        : (entry as Handoff).agent
          ? (entry as Handoff)
          : undefined;
    if (handoff?.agent.kind !== 'agent') {
      fail(`${at}: handoffs[${index}] must be an agent or { agent, inputFilter }`, `agent.handoffs.${index}`);
    }
    handoffs.set(`transfer_to_${handoff.agent.name}`, handoff);
  }
  if (options.outputSchema !== undefined && !(options.outputSchema instanceof z.ZodType)) {
    fail(`${at}: outputSchema must be a zod schema`, 'agent.outputSchema');
  }
  const limits = { steps: 25, ...options.limits };
  for (const [key, value] of Object.entries(limits)) {
    if (value !== undefined && (typeof value !== 'number' || !(value > 0))) {
      fail(`${at}: limits.${key} must be a positive number`, `agent.limits.${key}`);
    }
  }

  const staticTools: ChatCompletionFunctionTool[] = [];
  for (const local of localTools.values()) {
    staticTools.push({
      type: 'function',
      function: { name: local.name, description: local.description, parameters: local.parameters },
    });
  }
  for (const [name, handoff] of handoffs) {
    staticTools.push({
      type: 'function',
      function: {
        name,
        description:
          handoff.description ??
          `Hand the conversation to the ${handoff.agent.name} agent${handoff.agent.description ? `: ${handoff.agent.description}` : ''}`,
        parameters: { type: 'object', properties: {}, additionalProperties: false },
      },
    });
  }
  let instructions = options.instructions;
  if (options.outputSchema) {
    const schema = z.toJSONSchema(options.outputSchema);
    delete (schema as Record<string, unknown>).$schema;
    instructions += `\n\nAnswer with JSON only, matching this JSON schema: ${JSON.stringify(schema)}`;
  }

  return Object.freeze({
    kind: 'agent' as const,
    name: options.name,
    instructions: options.instructions,
    model: options.model,
    description: options.description,
    outputSchema: options.outputSchema,
    limits,
    stopWhen: options.stopWhen,
    settings: options.settings,
    localTools,
    toolPatterns,
    handoffs,
    staticTools,
    system: { role: 'system' as const, content: instructions },
  });
}

/** Every agent reachable from `roots` through handoffs and `asTool`, by name. */
export function collectAgents(
  roots: Iterable<Agent<any>>,
  into = new Map<string, Agent<any>>(),
): Map<string, Agent<any>> {
  const visit = (agent: Agent<any>) => {
    const known = into.get(agent.name);
    if (known === agent) return;
    if (known) {
      throw new ConfigError({ message: `two different agents are named ${agent.name}; agent names must be unique` });
    }
    into.set(agent.name, agent);
    for (const handoff of agent.handoffs.values()) visit(handoff.agent);
    for (const local of agent.localTools.values()) {
      const inner = (local as { agent?: Agent<any> }).agent;
      if (inner?.kind === 'agent') visit(inner);
    }
  };
  for (const root of roots) visit(root);
  return into;
}
