import { ConfigError, type Principal } from '@gatehouse/core';
import { z } from 'zod';

/** What a local tool's `execute` receives besides its parsed input. */
export interface ToolExecution {
  readonly sessionId: string;
  /** The model's tool call id. */
  readonly callId: string;
  /** The agent that called the tool. */
  readonly agent: string;
  /** The principal the call runs as (`agent` set to the calling agent). */
  readonly principal: Principal;
  readonly signal: AbortSignal | undefined;
  /** Runs another agent to its end inside this session and trace, and answers its output (used by `asTool`). */
  runAgent(agent: AgentLike, input: string): Promise<unknown>;
}

/** The part of an agent that tools refer to; the full type lives in `agent/`. */
export interface AgentLike {
  readonly kind: 'agent';
  readonly name: string;
}

/** A local tool: a typed function the model may call. Build one with `tool()`. */
export interface LocalTool<Input = any> {
  readonly kind: 'tool';
  readonly name: string;
  readonly description: string;
  readonly input: z.ZodType<Input>;
  /** The JSON schema of `input`, computed once, as the model sees it. */
  readonly parameters: Record<string, unknown>;
  execute(input: Input, execution: ToolExecution): unknown;
  /** Safe to run twice: after a crash, a call that started but did not finish is simply run again. */
  readonly idempotent: boolean;
  /** Pauses the session for `approve()` / `reject()` before the call runs. */
  readonly needsApproval: boolean | ((input: Input) => boolean);
}

export interface ToolOptions<Schema extends z.ZodType> {
  /** Within `^[a-zA-Z0-9_-]{1,64}$`, as the model APIs require. */
  name: string;
  description: string;
  input: Schema;
  execute(input: z.output<Schema>, execution: ToolExecution): unknown;
  idempotent?: boolean;
  needsApproval?: boolean | ((input: z.output<Schema>) => boolean);
}

export const toolNamePattern = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Defines a local tool with a zod input schema. Its result is sent to the model as text (strings as they
 * are, anything else as JSON); a thrown error is sent as `Error: …` so the model can react.
 *
 * @example
 * const weather = tool({
 *   name: 'weather',
 *   description: 'Current weather for a city',
 *   input: z.object({ city: z.string() }),
 *   idempotent: true,
 *   execute: async ({ city }) => fetchWeather(city),
 * });
 */
export function tool<Schema extends z.ZodType>(options: ToolOptions<Schema>): LocalTool<z.output<Schema>> {
  if (typeof options?.name !== 'string' || !toolNamePattern.test(options.name)) {
    throw new ConfigError({
      message: `tool(): name ${JSON.stringify(options?.name)} must match ^[a-zA-Z0-9_-]{1,64}$`,
      path: 'tool.name',
    });
  }
  if (!(options.input instanceof z.ZodType)) {
    throw new ConfigError({ message: `tool(${options.name}): input must be a zod schema`, path: 'tool.input' });
  }
  if (typeof options.execute !== 'function') {
    throw new ConfigError({ message: `tool(${options.name}): execute must be a function`, path: 'tool.execute' });
  }
  const parameters = z.toJSONSchema(options.input, { io: 'input' }) as Record<string, unknown>;
  delete parameters.$schema;
  return Object.freeze({
    kind: 'tool' as const,
    name: options.name,
    description: options.description ?? '',
    input: options.input,
    parameters,
    execute: options.execute,
    idempotent: options.idempotent ?? false,
    needsApproval: options.needsApproval ?? false,
  }) as LocalTool<z.output<Schema>>;
}

/** Whether a value is a tool built by `tool()` or `asTool()`. */
export function isLocalTool(value: unknown): value is LocalTool {
  return typeof value === 'object' && value !== null && (value as LocalTool).kind === 'tool';
}

const agentInput = z.object({ input: z.string().describe('What the agent should do, in plain language') });

/**
 * Exposes an agent as a tool: the caller's model sends it a task, the agent runs to its end inside the
 * same session and trace (under its own principal), and its output returns to the caller as the tool result.
 *
 * @example
 * const researcher = defineAgent({ name: 'researcher', … });
 * const writer = defineAgent({ name: 'writer', tools: [asTool(researcher)], … });
 */
export function asTool(
  agent: AgentLike & { readonly description?: string },
  options: { name?: string; description?: string; idempotent?: boolean; needsApproval?: boolean } = {},
): LocalTool<{ input: string }> & { readonly agent: AgentLike } {
  const built = tool({
    name: options.name ?? agent.name,
    description: options.description ?? agent.description ?? `Ask the ${agent.name} agent to do a task`,
    input: agentInput,
    idempotent: options.idempotent ?? false,
    needsApproval: options.needsApproval ?? false,
    execute: ({ input }, execution) => execution.runAgent(agent, input),
  });
  return Object.freeze({ ...built, agent });
}
