import { randomUUID } from 'node:crypto';
import {
  AbortedError,
  Attr,
  compose,
  type EventBus,
  GatehouseError,
  InvalidInputError,
  NotFoundError,
  Operation,
  type Principal,
  type ResolvedScope,
  type Scope,
  type Span,
  SpanKind,
  type Store,
  type Telemetry,
} from '@gatehouse/core';
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionFunctionTool,
  ChatCompletionMessageFunctionToolCall,
} from 'openai/resources/chat/completions';
import { type Agent, type AgentLimits, collectAgents } from '../agent/index.js';
import { OutputValidationError } from '../errors/index.js';
import {
  type LimitReason,
  type PendingCall,
  type SessionState,
  type SessionStore,
  type Usage,
  upgradeRecord,
} from '../session/index.js';
import type { LocalTool, ToolExecution } from '../tool/index.js';
import { type ChatClient, callModel } from './model.js';
import { resultText, type SourceTool, type ToolSource, valueText } from './tool-source.js';
import type {
  AgentEvent,
  CostFunction,
  RunOptions,
  RunResult,
  StepContext,
  StepMiddleware,
  StepResult,
} from './types.js';

/** What the runner needs from the gateway. */
export interface RunnerRuntime {
  readonly telemetry: Telemetry;
  readonly events: EventBus;
  readonly store: Store;
  scope(): ResolvedScope;
  run<T>(scope: Scope, fn: () => T): T;
}

export interface RunnerOptions {
  client: ChatClient;
  /** Write `chat {model}` spans here (when no models layer writes them). */
  modelSpans: boolean;
  tools: ToolSource | undefined;
  sessions: SessionStore;
  concurrency: number;
  cost: CostFunction | undefined;
  middleware: readonly StepMiddleware[];
  runtime: RunnerRuntime;
  agents: readonly Agent<any>[];
  /** Replay: tool results come from the record instead of the tools, approvals are not asked again. */
  recordedToolResult?: (step: number, callId: string) => string | undefined;
}

/** The decision for a tool call that started before a crash and may or may not have run. */
export type Decision = 'retry' | 'skip' | { result: unknown };

interface Run {
  state: SessionState;
  agent: Agent<any>;
  /** The caller's principal; each agent runs with its own name as `agent` on top of it. */
  principal: Principal;
  agentPrincipal: Principal;
  spans: Span[];
  signal: AbortSignal | undefined;
  userSignal: AbortSignal | undefined;
  timeSignal: AbortSignal | undefined;
  emit: ((event: AgentEvent) => void) | undefined;
  persist: boolean;
  saving: Promise<void>;
  stepsAtStart: number;
  startedAt: number;
  tools: Map<string, { definitions: ChatCompletionFunctionTool[]; byName: Map<string, SourceTool> }>;
  ending: { status: 'finished' | 'stopped' } | undefined;
  lastText: string;
}

const runKey = Symbol('gatehouse.agents.run');
const terminal = new Set(['finished', 'stopped', 'failed']);

/**
 * The bus, typed by name only: `agent-step` and `agent-handoff` are declared on `GatehouseEventMap` in
 * `layer/`, but augmenting core's map through its barrel does not reach the map's own declaration yet.
 */
function loose(events: EventBus): { has(type: string): boolean; emit(type: string, payload: object): void } {
  return events as unknown as { has(type: string): boolean; emit(type: string, payload: object): void };
}

function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
}

function usageOf(response: ChatCompletion): Usage {
  const input = response.usage?.prompt_tokens ?? 0;
  const output = response.usage?.completion_tokens ?? 0;
  return { inputTokens: input, outputTokens: output, totalTokens: response.usage?.total_tokens ?? input + output };
}

function errorText(error: unknown): string {
  return `Error: ${error instanceof Error ? error.message : String(error)}`;
}

const fence = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/;

/** Runs `work` over `items`, at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  if (items.length === 1) return work(items[0]!);
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * The session runner: model → tool calls → model, one step at a time through the step middleware chain, with
 * a checkpoint after each change a crash must not lose.
 */
export class Runner {
  readonly #options: RunnerOptions;
  readonly #agents = new Map<string, Agent<any>>();
  readonly #chain: (context: StepContext) => Promise<StepResult>;

  constructor(options: RunnerOptions) {
    this.#options = options;
    collectAgents(options.agents, this.#agents);
    this.#chain = compose(options.middleware, (context) => this.#step(context));
  }

  /** Registers an agent (and every agent it reaches) so that sessions it runs can be resumed here. */
  register(agent: Agent<any>): void {
    collectAgents([agent], this.#agents);
  }

  async run(
    agent: Agent<any>,
    input: string,
    options: RunOptions = {},
    emit?: (event: AgentEvent) => void,
  ): Promise<RunResult> {
    if (agent?.kind !== 'agent') throw new InvalidInputError({ message: 'run(agent, …): expected defineAgent(…)' });
    if (typeof input !== 'string')
      throw new InvalidInputError({ message: 'run(agent, input): input must be a string' });
    this.register(agent);
    const id = options.sessionId ?? randomUUID();
    const principal = { ...this.#options.runtime.scope().principal, ...options.principal };
    let state = options.sessionId === undefined ? undefined : await this.get(id);
    if (state && !terminal.has(state.status) && state.status !== 'limit') {
      throw new InvalidInputError({
        message: `session ${id} is ${state.status}; answer it with approve(), reject(), decide() or resume() before running it again`,
      });
    }
    if (state) {
      state.agent = agent.name;
      state.principal = principal;
      delete state.output;
      delete state.reason;
      delete state.error;
    } else {
      state = newState(id, agent, principal, input);
    }
    // Each run of the session is recorded with its input, so that replay() runs them all again.
    state.record.runs.push({ agent: agent.name, input, firstStep: state.record.steps.length, status: 'running' });
    state.messages.push({ role: 'user', content: input });
    return this.#drive(this.#newRun(state, agent, options.signal, emit, true));
  }

  /** Continues a session from its last checkpoint (after a crash, or a limit). */
  async resume(sessionId: string, options: { signal?: AbortSignal } = {}, emit?: (event: AgentEvent) => void) {
    const state = await this.#load(sessionId);
    if (terminal.has(state.status) && state.status !== 'failed') return resultOf(state);
    return this.#drive(this.#newRun(state, this.#agent(state.agent), options.signal, emit, true));
  }

  /** Approves a call waiting for approval; the session goes on once no call waits any more. */
  approve(sessionId: string, callId: string, emit?: (event: AgentEvent) => void): Promise<RunResult> {
    return this.#answer(sessionId, callId, 'awaiting-approval', emit, (call) => {
      call.state = 'approved';
      return 'approved';
    });
  }

  /** Rejects a call waiting for approval; the model is told it was rejected and the session goes on. */
  reject(sessionId: string, callId: string, reason?: string, emit?: (event: AgentEvent) => void): Promise<RunResult> {
    return this.#answer(sessionId, callId, 'awaiting-approval', emit, (call) => {
      call.state = 'rejected';
      call.result = `The call was rejected by a reviewer and did not run${reason ? `: ${reason}` : '.'}`;
      return 'rejected';
    });
  }

  /** Settles a call that started before a crash: run it again, skip it, or give its result. */
  decide(sessionId: string, callId: string, decision: Decision, emit?: (event: AgentEvent) => void) {
    return this.#answer(sessionId, callId, 'needs-decision', emit, (call) => {
      if (decision === 'retry') {
        call.state = 'retry';
        return 'retry';
      }
      call.state = 'done';
      if (decision === 'skip') {
        call.result = 'The call was skipped after an interruption; whether it ran is unknown.';
        return 'skip';
      }
      if (typeof decision !== 'object' || decision === null || !('result' in decision)) {
        throw new InvalidInputError({ message: "decide(): decision must be 'retry', 'skip' or { result }" });
      }
      call.result = valueText(decision.result);
      return 'result';
    });
  }

  /** The session's state as last checkpointed. */
  async get(sessionId: string): Promise<SessionState | undefined> {
    const state = await this.#options.sessions.load(sessionId);
    // Sessions saved before records kept every run are read in the current form.
    if (state) state.record = upgradeRecord(state.record);
    return state;
  }

  async #answer(
    sessionId: string,
    callId: string,
    expected: 'awaiting-approval' | 'needs-decision',
    emit: ((event: AgentEvent) => void) | undefined,
    apply: (call: PendingCall) => string,
  ): Promise<RunResult> {
    const state = await this.#load(sessionId);
    const call = state.pending.find((pending) => pending.id === callId);
    if (!call) throw new NotFoundError({ message: `session ${sessionId} has no pending tool call ${callId}` });
    if (call.state !== expected) {
      throw new InvalidInputError({
        message: `tool call ${callId} of session ${sessionId} is ${call.state}, not ${expected}`,
      });
    }
    const decision = apply(call);
    state.record.steps.at(-1)?.decisions.push({ callId, decision, time: Date.now() });
    const waiting = state.pending.some(
      (pending) => pending.state === 'awaiting-approval' || pending.state === 'needs-decision',
    );
    if (waiting) {
      state.status = state.pending.some((pending) => pending.state === 'needs-decision')
        ? 'needs-decision'
        : 'awaiting-approval';
      state.updatedAt = Date.now();
      await this.#options.sessions.save(state);
      return resultOf(state);
    }
    return this.#drive(this.#newRun(state, this.#agent(state.agent), undefined, emit, true));
  }

  async #load(sessionId: string): Promise<SessionState> {
    const state = await this.get(sessionId);
    if (!state) throw new NotFoundError({ message: `no session ${sessionId} in the session store` });
    return state;
  }

  #agent(name: string): Agent<any> {
    const agent = this.#agents.get(name);
    if (!agent) {
      throw new NotFoundError({
        message: `agent ${name} is not known here; pass it in agents({ agents: [...] }) so that its sessions can be resumed`,
      });
    }
    return agent;
  }

  #newRun(
    state: SessionState,
    agent: Agent<any>,
    userSignal: AbortSignal | undefined,
    emit: ((event: AgentEvent) => void) | undefined,
    persist: boolean,
  ): Run {
    const timeMs = agent.limits.timeMs;
    const timeSignal = timeMs === undefined ? undefined : AbortSignal.timeout(timeMs);
    const signal = userSignal && timeSignal ? AbortSignal.any([userSignal, timeSignal]) : (userSignal ?? timeSignal);
    return {
      state,
      agent,
      principal: state.principal,
      agentPrincipal: { ...state.principal, agent: agent.name },
      spans: [],
      signal,
      userSignal,
      timeSignal,
      emit,
      persist,
      saving: Promise.resolve(),
      stepsAtStart: state.step,
      startedAt: Date.now(),
      tools: new Map(),
      ending: undefined,
      lastText: '',
    };
  }

  async #drive(run: Run): Promise<RunResult> {
    const { telemetry } = this.#options.runtime;
    run.state.status = 'running';
    run.state.outputRetried = false;
    await this.#checkpoint(run);
    const span = this.#agentSpan(run);
    let failure: unknown;
    try {
      return await telemetry.withSpan(span, () => this.#loop(run));
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      for (const open of run.spans.reverse()) telemetry.endSpan(open, failure);
    }
  }

  #agentSpan(run: Run): Span {
    const name = run.agent.name;
    const span = this.#options.runtime.telemetry.startSpan(`${Operation.invokeAgent} ${name}`, SpanKind.INTERNAL, {
      [Attr.operationName]: Operation.invokeAgent,
      [Attr.agentName]: name,
      [Attr.conversationId]: run.state.id,
    });
    run.spans.push(span);
    return span;
  }

  async #loop(run: Run): Promise<RunResult> {
    const { state } = run;
    for (;;) {
      try {
        if (state.pending.length > 0) {
          if (await this.#settle(run)) return this.#pause(run);
        } else {
          const limit = this.#limit(run);
          if (limit) return this.#end(run, 'limit', limit);
          const result = await this.#chain(this.#context(run));
          if (result.outcome === 'paused') return this.#pause(run);
        }
        if (run.ending) return this.#end(run, run.ending.status);
      } catch (error) {
        if (run.timeSignal?.aborted && !run.userSignal?.aborted) return this.#end(run, 'limit', 'time');
        if (run.userSignal?.aborted) {
          await this.#checkpoint(run);
          throw new AbortedError({ message: `session ${state.id} was aborted; resume() continues it`, cause: error });
        }
        state.status = 'failed';
        state.error = GatehouseError.isInstance(error)
          ? { code: error.code, message: error.message }
          : { code: 'ERROR', message: error instanceof Error ? error.message : String(error) };
        await this.#checkpoint(run);
        throw error;
      }
    }
  }

  #limit(run: Run): LimitReason | undefined {
    const { limits } = run.agent;
    const { state } = run;
    if (limits.steps !== undefined && state.step - run.stepsAtStart >= limits.steps) return 'steps';
    if (limits.tokens !== undefined && state.usage.totalTokens >= limits.tokens) return 'tokens';
    if (limits.dollars !== undefined && state.cost >= limits.dollars) return 'dollars';
    if (run.timeSignal?.aborted || (limits.timeMs !== undefined && Date.now() - run.startedAt >= limits.timeMs)) {
      return 'time';
    }
    return undefined;
  }

  #context(run: Run): StepContext {
    const { runtime } = this.#options;
    const { agent, state } = run;
    const tools = this.#staticOrListed(run);
    const request: ChatCompletionCreateParamsNonStreaming = {
      model: agent.model,
      messages: [agent.system, ...state.messages],
      ...agent.settings,
    };
    if (tools.length > 0) request.tools = tools;
    return {
      principal: run.agentPrincipal,
      sessionId: state.id,
      metadata: { ...runtime.scope().metadata },
      signal: run.signal,
      span: run.spans.at(-1)!,
      events: runtime.events,
      store: runtime.store,
      telemetry: runtime.telemetry,
      agent,
      step: state.step,
      state,
      request,
      [runKey]: run,
    } as StepContext;
  }

  /** The agent's local and handoff tools, plus the tool-layer tools it may use (listed once per run). */
  #staticOrListed(run: Run): ChatCompletionFunctionTool[] {
    const listed = run.tools.get(run.agent.name);
    if (!listed) return run.agent.staticTools as ChatCompletionFunctionTool[];
    return [...run.agent.staticTools, ...listed.definitions];
  }

  async #listTools(run: Run): Promise<void> {
    const { agent } = run;
    const source = this.#options.tools;
    if (agent.toolPatterns.length === 0 || run.tools.has(agent.name)) return;
    const byName = new Map<string, SourceTool>();
    const definitions: ChatCompletionFunctionTool[] = [];
    if (source) {
      const all = await this.#options.runtime.run({ principal: run.agentPrincipal, sessionId: run.state.id }, () =>
        source.listTools(),
      );
      for (const listed of all) {
        if (!agent.toolPatterns.some((pattern) => pattern.test(listed.name))) continue;
        byName.set(listed.name, listed);
        definitions.push({
          type: 'function',
          function: { name: listed.name, description: listed.description ?? '', parameters: listed.inputSchema },
        });
      }
    }
    run.tools.set(agent.name, { definitions, byName });
  }

  /** The innermost handler of the step chain: one model call, then its tool calls. */
  async #step(context: StepContext): Promise<StepResult> {
    const run = (context as unknown as { [runKey]: Run })[runKey];
    const { state, agent } = run;
    const step = state.step;
    run.emit?.({ type: 'step-started', step, agent: agent.name });
    if (agent.toolPatterns.length > 0 && !run.tools.has(agent.name)) {
      await this.#listTools(run);
      const listed = run.tools.get(agent.name)!.definitions;
      if (listed.length > 0) context.request.tools = [...(context.request.tools ?? []), ...listed];
    }
    const startedAt = Date.now();
    const response = await this.#model(run, context.request, step);
    const usage = usageOf(response);
    state.usage.inputTokens += usage.inputTokens;
    state.usage.outputTokens += usage.outputTokens;
    state.usage.totalTokens += usage.totalTokens;
    if (this.#options.cost) state.cost += this.#options.cost({ model: context.request.model, usage, response });
    const message = response.choices[0]!.message;
    const calls = (message.tool_calls ?? []).filter(
      (call): call is ChatCompletionMessageFunctionToolCall => call.type === 'function',
    );
    const text = message.content ?? '';
    if (text !== '') run.lastText = text;
    state.messages.push(
      calls.length > 0
        ? { role: 'assistant', content: message.content ?? null, tool_calls: calls }
        : { role: 'assistant', content: text },
    );
    state.record.steps.push({
      step,
      agent: agent.name,
      startedAt,
      durationMs: Date.now() - startedAt,
      request: {
        model: context.request.model,
        messages: context.request.messages,
        tools: (context.request.tools ?? []).map((tool) => (tool.type === 'function' ? tool.function.name : tool.type)),
      },
      response,
      toolCalls: [],
      decisions: [],
      usage,
    });
    state.step = step + 1;
    if (calls.length === 0) {
      this.#final(run, text);
      this.#stepEvent(run, agent, step, startedAt, usage, []);
      await this.#checkpoint(run);
      return { response, outcome: 'final' };
    }
    state.pending = calls.map((call) => ({
      id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
      key: `${state.id}:${step}:${call.id}`,
      step,
      state: 'planned',
    }));
    if (run.emit) {
      for (const call of state.pending) {
        run.emit({
          type: 'tool-call',
          step,
          agent: agent.name,
          callId: call.id,
          name: call.name,
          arguments: call.arguments,
        });
      }
    }
    await this.#checkpoint(run);
    const paused = await this.#settle(run);
    this.#stepEvent(run, agent, step, startedAt, usage, calls);
    return { response, outcome: paused ? 'paused' : run.agent === agent ? 'tool-calls' : 'handoff' };
  }

  #stepEvent(
    run: Run,
    agent: Agent<any>,
    step: number,
    startedAt: number,
    usage: Usage,
    calls: ChatCompletionMessageFunctionToolCall[],
  ) {
    const events = loose(this.#options.runtime.events);
    if (!events.has('agent-step')) return;
    events.emit('agent-step', {
      time: Date.now(),
      principal: { ...run.principal, agent: agent.name },
      sessionId: run.state.id,
      agent: agent.name,
      step,
      toolCalls: calls.map((call) => call.function.name),
      usage,
      durationMs: Date.now() - startedAt,
    });
  }

  async #model(run: Run, request: ChatCompletionCreateParamsNonStreaming, step: number): Promise<ChatCompletion> {
    const { runtime, client, modelSpans } = this.#options;
    const { telemetry } = runtime;
    const emit = run.emit;
    const onDelta = emit
      ? (delta: string) => emit({ type: 'text-delta', step, agent: run.agent.name, delta })
      : undefined;
    const call = () => callModel(client, request, run.signal, onDelta);
    const scope = { principal: run.agentPrincipal, sessionId: run.state.id };
    // Inside the current agent's span, so that the models layer's `chat` span is its child.
    return telemetry.withSpan(run.spans.at(-1)!, () =>
      runtime.run(scope, async () => {
        if (!modelSpans) return call();
        const span = telemetry.startSpan(`${Operation.chat} ${request.model}`, SpanKind.CLIENT, {
          [Attr.operationName]: Operation.chat,
          [Attr.requestModel]: request.model,
        });
        try {
          const response = await telemetry.withSpan(span, call);
          if (span.isRecording()) {
            span.setAttribute(Attr.responseModel, response.model);
            if (response.usage) {
              span.setAttribute(Attr.usageInputTokens, response.usage.prompt_tokens);
              span.setAttribute(Attr.usageOutputTokens, response.usage.completion_tokens);
            }
          }
          telemetry.endSpan(span);
          return response;
        } catch (error) {
          telemetry.endSpan(span, error);
          throw error;
        }
      }),
    );
  }

  /** A final answer: validated against the output schema, with one corrective retry. */
  #final(run: Run, text: string): void {
    const { state, agent } = run;
    const schema = agent.outputSchema;
    if (!schema) {
      state.output = text;
      run.ending = { status: 'finished' };
      return;
    }
    let issues: string[];
    try {
      const parsed = schema.safeParse(JSON.parse(fence.exec(text)?.[1] ?? text));
      if (parsed.success) {
        state.output = parsed.data;
        run.ending = { status: 'finished' };
        return;
      }
      issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    } catch (error) {
      issues = [`not JSON (${(error as Error).message})`];
    }
    if (!state.outputRetried) {
      state.outputRetried = true;
      state.messages.push({
        role: 'user',
        content: `Your answer does not match the required JSON schema (${issues.join('; ')}). Answer again with JSON only.`,
      });
      return;
    }
    throw new OutputValidationError({
      message: `agent ${agent.name} answered output that does not match its outputSchema after one retry: ${issues.join('; ')}`,
      agent: agent.name,
      output: text,
      issues,
    });
  }

  /**
   * Runs the pending tool calls that may run, in parallel up to the concurrency limit. Answers true when the
   * session must pause (a call waits for approval or a decision).
   */
  async #settle(run: Run): Promise<boolean> {
    const { state, agent } = run;
    const replaying = this.#options.recordedToolResult !== undefined;
    const runnable: PendingCall[] = [];
    let blocked = false;
    for (const call of state.pending) {
      switch (call.state) {
        case 'done':
        case 'rejected':
          break;
        case 'started':
          if (replaying || (await this.#idempotent(run, call.name))) runnable.push(call);
          else {
            call.state = 'needs-decision';
            blocked = true;
          }
          break;
        case 'planned':
          // A replay answers approvals from the record; a call the record has no result for was still waiting.
          if (this.#needsApproval(agent, call) && (!replaying || this.#recorded(call) === undefined)) {
            call.state = 'awaiting-approval';
            blocked = true;
            run.emit?.({
              type: 'approval-requested',
              step: state.step - 1,
              agent: agent.name,
              callId: call.id,
              name: call.name,
              arguments: call.arguments,
            });
          } else runnable.push(call);
          break;
        case 'approved':
        case 'retry':
          runnable.push(call);
          break;
        default:
          blocked = true;
      }
    }
    if (runnable.length > 0) await pool(runnable, this.#options.concurrency, (call) => this.#execute(run, call));
    if (blocked) {
      state.status = state.pending.some((call) => call.state === 'needs-decision')
        ? 'needs-decision'
        : 'awaiting-approval';
      await this.#checkpoint(run);
      return true;
    }
    const record = state.record.steps.at(-1);
    let handoff: Agent<any> | undefined;
    for (const call of state.pending) {
      state.messages.push({ role: 'tool', tool_call_id: call.id, content: call.result ?? '' });
      record?.toolCalls.push({ id: call.id, name: call.name, arguments: call.arguments, result: call.result });
      handoff ??= agent.handoffs.get(call.name)?.agent;
    }
    state.pending = [];
    if (handoff) this.#handoff(run, handoff);
    if (agent.stopWhen && !run.ending) {
      const last = state.record.steps.at(-1);
      const message = last?.response.choices[0]?.message;
      const stop = agent.stopWhen({
        step: state.step - 1,
        agent: agent.name,
        text: message?.content ?? '',
        toolCalls: (record?.toolCalls ?? []).map((call) => ({ name: call.name, arguments: call.arguments })),
      });
      if (stop) run.ending = { status: 'stopped' };
    }
    await this.#checkpoint(run);
    return false;
  }

  #handoff(run: Run, target: Agent<any>): void {
    const from = run.agent;
    const { telemetry } = this.#options.runtime;
    const filter = from.handoffs.get(`transfer_to_${target.name}`)?.inputFilter;
    if (filter) run.state.messages = filter(run.state.messages);
    run.spans
      .at(-1)!
      .addEvent('gen_ai.agent.handoff', { 'gatehouse.handoff.from': from.name, 'gatehouse.handoff.to': target.name });
    run.agent = target;
    run.state.agent = target.name;
    run.agentPrincipal = { ...run.principal, agent: target.name };
    // The next agent's span is a child of the one that handed over, so that the session stays one trace.
    telemetry.withSpan(run.spans.at(-1)!, () => this.#agentSpan(run));
    run.emit?.({ type: 'handoff', step: run.state.step - 1, from: from.name, to: target.name });
    const events = loose(this.#options.runtime.events);
    if (events.has('agent-handoff')) {
      events.emit('agent-handoff', {
        time: Date.now(),
        principal: run.principal,
        sessionId: run.state.id,
        from: from.name,
        to: target.name,
      });
    }
  }

  #recorded(call: PendingCall): string | undefined {
    return this.#options.recordedToolResult?.(call.step, call.id);
  }

  #needsApproval(agent: Agent<any>, call: PendingCall): boolean {
    const local = agent.localTools.get(call.name);
    if (!local || local.needsApproval === false) return false;
    if (local.needsApproval === true) return true;
    try {
      return local.needsApproval(JSON.parse(call.arguments || '{}'));
    } catch {
      // Arguments that do not parse never reach the tool; the model is told so instead.
      return false;
    }
  }

  async #idempotent(run: Run, name: string): Promise<boolean> {
    const local = run.agent.localTools.get(name);
    if (local) return local.idempotent;
    if (run.agent.handoffs.has(name)) return true;
    await this.#listTools(run);
    return run.tools.get(run.agent.name)?.byName.get(name)?.annotations?.idempotentHint === true;
  }

  async #execute(run: Run, call: PendingCall): Promise<void> {
    const { agent } = run;
    const step = call.step;
    const recorded = this.#options.recordedToolResult;
    const handoff = agent.handoffs.get(call.name);
    if (recorded) {
      call.result = recorded(step, call.id) ?? 'Error: no recorded result for this call';
    } else if (handoff) {
      call.result = `Transferred to ${handoff.agent.name}.`;
    } else {
      call.result = await this.#invoke(run, call);
    }
    call.state = 'done';
    run.emit?.({ type: 'tool-result', step, agent: agent.name, callId: call.id, name: call.name, result: call.result });
    // A completed call is checkpointed at once, so that a crash after it never runs it again.
    if (!handoff) await this.#checkpoint(run);
  }

  /** Runs one tool call (local or tool layer) under the agent's principal; errors become text for the model. */
  async #invoke(run: Run, call: PendingCall): Promise<string> {
    const { agent } = run;
    let args: Record<string, unknown>;
    try {
      args = JSON.parse(call.arguments || '{}');
    } catch (error) {
      return `Error: the arguments are not valid JSON (${(error as Error).message}); call the tool again with valid JSON`;
    }
    const local = agent.localTools.get(call.name);
    if (local) {
      const parsed = local.input.safeParse(args);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
        return `Error: invalid arguments for ${call.name}: ${issues.join('; ')}`;
      }
      await this.#started(run, call, local.idempotent);
      return this.#traced(run, call, true, () => this.#local(run, call, local, parsed.data));
    }
    await this.#listTools(run);
    const listed = run.tools.get(agent.name)?.byName.get(call.name);
    const source = this.#options.tools;
    if (!listed || !source) return `Error: ${call.name} is not one of your tools`;
    await this.#started(run, call, listed.annotations?.idempotentHint === true);
    return this.#traced(run, call, !source.traced, async () => {
      try {
        return resultText(await source.callTool(call.name, args, { callId: call.id }));
      } catch (error) {
        if (run.signal?.aborted) throw error;
        return errorText(error);
      }
    });
  }

  /** Records the idempotency key as started before a call that must not run twice. */
  async #started(run: Run, call: PendingCall, idempotent: boolean): Promise<void> {
    call.state = 'started';
    if (!idempotent) await this.#checkpoint(run);
  }

  async #local(run: Run, call: PendingCall, local: LocalTool, input: unknown): Promise<string> {
    const execution: ToolExecution = {
      sessionId: run.state.id,
      callId: call.id,
      agent: run.agent.name,
      principal: run.agentPrincipal,
      signal: run.signal,
      runAgent: (agent, task) => this.#nested(run, this.#agent(agent.name), task, call),
    };
    try {
      return valueText(await local.execute(input, execution));
    } catch (error) {
      if (run.signal?.aborted) throw error;
      return errorText(error);
    }
  }

  #traced(run: Run, call: PendingCall, span: boolean, fn: () => Promise<string>): Promise<string> {
    const { runtime } = this.#options;
    const scope = { principal: run.agentPrincipal, sessionId: run.state.id };
    const { telemetry } = runtime;
    if (!span) return telemetry.withSpan(run.spans.at(-1)!, () => runtime.run(scope, fn));
    return telemetry.withSpan(run.spans.at(-1)!, () =>
      runtime.run(scope, async () => {
        const toolSpan = telemetry.startSpan(`${Operation.executeTool} ${call.name}`, SpanKind.INTERNAL, {
          [Attr.operationName]: Operation.executeTool,
          [Attr.toolName]: call.name,
          [Attr.toolCallId]: call.id,
          [Attr.toolType]: 'function',
        });
        try {
          const result = await telemetry.withSpan(toolSpan, fn);
          if (result.startsWith('Error: ')) toolSpan.setAttribute(Attr.errorType, 'tool_error');
          telemetry.endSpan(toolSpan);
          return result;
        } catch (error) {
          telemetry.endSpan(toolSpan, error);
          throw error;
        }
      }),
    );
  }

  /** An agent used as a tool: runs to its end in this session and trace, unsaved; its usage counts here. */
  async #nested(parent: Run, agent: Agent<any>, input: string, call: PendingCall): Promise<unknown> {
    const state = newState(`${parent.state.id}.${call.id}`, agent, parent.principal, input);
    state.messages.push({ role: 'user', content: input });
    const run = this.#newRun(state, agent, parent.userSignal, undefined, false);
    const result = await this.#drive(run);
    parent.state.usage.inputTokens += result.usage.inputTokens;
    parent.state.usage.outputTokens += result.usage.outputTokens;
    parent.state.usage.totalTokens += result.usage.totalTokens;
    parent.state.cost += result.cost;
    if (result.status === 'awaiting-approval' || result.status === 'needs-decision') {
      throw new InvalidInputError({ message: `agent ${agent.name}, used as a tool, cannot pause for approval` });
    }
    return result.output;
  }

  #checkpoint(run: Run): Promise<void> {
    if (!run.persist) return Promise.resolve();
    const { state } = run;
    const save = run.saving.then(() => {
      state.updatedAt = Date.now();
      const recorded = state.record.runs.at(-1);
      if (recorded) recorded.status = state.status;
      return this.#options.sessions.save(state);
    });
    // One failed save must not block the ones after it; the caller of this save still sees its failure.
    run.saving = save.catch(() => {});
    return save;
  }

  async #pause(run: Run): Promise<RunResult> {
    await this.#checkpoint(run);
    const result = resultOf(run.state);
    run.emit?.({ type: 'finished', result });
    return result;
  }

  async #end(run: Run, status: 'finished' | 'stopped' | 'limit', reason?: LimitReason): Promise<RunResult> {
    const { state } = run;
    state.status = status;
    if (status !== 'finished') state.output = run.lastText || undefined;
    if (reason) state.reason = reason;
    await this.#checkpoint(run);
    const result = resultOf(state);
    run.emit?.({ type: 'finished', result });
    return result;
  }
}

function newState(id: string, agent: Agent<any>, principal: Principal, input: string): SessionState {
  const now = Date.now();
  return {
    id,
    status: 'running',
    agent: agent.name,
    principal,
    messages: [],
    usage: emptyUsage(),
    cost: 0,
    step: 0,
    pending: [],
    record: { version: 2, sessionId: id, entryAgent: agent.name, input, runs: [], steps: [] },
    createdAt: now,
    updatedAt: now,
  };
}

/** The public view of a session's state. */
export function resultOf(state: SessionState): RunResult {
  return {
    sessionId: state.id,
    status: state.status,
    output: state.output,
    ...(state.reason ? { reason: state.reason } : {}),
    agent: state.agent,
    messages: state.messages,
    usage: state.usage,
    cost: state.cost,
    pending: state.pending.filter((call) => call.state === 'awaiting-approval' || call.state === 'needs-decision'),
  };
}

export type { AgentLimits };
