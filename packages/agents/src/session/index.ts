import { MemoryStore, type Principal, type Store } from '@gatehouse/core';
import type { ChatCompletion, ChatCompletionMessageParam } from 'openai/resources/chat/completions';

/**
 * Where a session is:
 * - `running`: a run is in progress (or its process died; `resume()` continues it);
 * - `finished`: the agent gave its final answer;
 * - `limit`: a limit stopped it (see `reason`);
 * - `stopped`: the agent's `stopWhen` ended it;
 * - `awaiting-approval`: a tool call waits for `approve()` / `reject()`;
 * - `needs-decision`: a tool call started before a crash and may or may not have run: `decide()`;
 * - `failed`: an error ended the run (see `error`).
 */
export type SessionStatus =
  | 'running'
  | 'finished'
  | 'limit'
  | 'stopped'
  | 'awaiting-approval'
  | 'needs-decision'
  | 'failed';

export type LimitReason = 'steps' | 'tokens' | 'dollars' | 'time';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/**
 * A tool call of the current step, from the model's request to its result. The idempotency key
 * (`session:step:call`) is recorded as `started` before the call runs and with its result after it.
 */
export interface PendingCall {
  id: string;
  name: string;
  arguments: string;
  key: string;
  /** The step whose model response asked for the call. */
  step: number;
  state: 'planned' | 'awaiting-approval' | 'approved' | 'rejected' | 'started' | 'done' | 'needs-decision' | 'retry';
  /** The text the model receives, once known. */
  result?: string;
}

/** One step of the run record: what the model was asked and answered, what the tools did, and when. */
export interface StepRecord {
  step: number;
  agent: string;
  startedAt: number;
  durationMs: number;
  request: { model: string; messages: ChatCompletionMessageParam[]; tools: string[] };
  response: ChatCompletion;
  toolCalls: { id: string; name: string; arguments: string; result?: string; durationMs?: number }[];
  decisions: { callId: string; decision: string; time: number }[];
  usage: Usage;
}

/** One `run()` of a session, with the resumes, approvals and decisions that continued it. */
export interface RecordedRun {
  /** The agent `run()` was given. */
  agent: string;
  input: string;
  /** The index in `steps` of the run's first step. */
  firstStep: number;
  /** Where the session was at the run's last checkpoint (absent in records written as version 1). */
  status?: SessionStatus;
}

/**
 * The run record kept with the session: every `run()` of it, in order, with its steps; enough to `replay()`
 * the whole session with no network. Version 2 added `runs`; `upgradeRecord()` reads version 1 records.
 */
export interface RunRecord {
  version: 2;
  sessionId: string;
  /** The agent of the first run (as in version 1). */
  entryAgent: string;
  /** The input of the first run (as in version 1); `runs` has every input. */
  input: string;
  runs: RecordedRun[];
  /** Every step of every run, in order: `steps[n].step === n`. */
  steps: StepRecord[];
}

/** A run record written before a session kept more than its first run. */
export interface RunRecordV1 {
  version: 1;
  sessionId: string;
  entryAgent: string;
  input: string;
  steps: StepRecord[];
}

/**
 * The current form of a run record of any version. A version 1 record becomes one run starting at step 0:
 * it held steps of later runs too, but not where they started or what their input was.
 */
export function upgradeRecord(record: RunRecord | RunRecordV1): RunRecord {
  if (record.version === 2) return record;
  return {
    version: 2,
    sessionId: record.sessionId,
    entryAgent: record.entryAgent,
    input: record.input,
    runs: [{ agent: record.entryAgent, input: record.input, firstStep: 0 }],
    steps: record.steps,
  };
}

/** Everything a session is, checkpointed after each step. JSON-serialisable. */
export interface SessionState {
  id: string;
  status: SessionStatus;
  /** The agent holding the conversation now (changes on handoff). */
  agent: string;
  principal: Principal;
  messages: ChatCompletionMessageParam[];
  usage: Usage;
  cost: number;
  /** Steps (model calls) done so far. */
  step: number;
  /** Tool calls of the step in progress. */
  pending: PendingCall[];
  output?: unknown;
  reason?: LimitReason;
  error?: { code: string; message: string };
  /** Whether the output schema's corrective retry was spent. */
  outputRetried?: boolean;
  record: RunRecord;
  createdAt: number;
  updatedAt: number;
}

/** Where sessions are kept. `storeSessions(store)` and `fileSessions(dir)` build one; any object of this shape works. */
export interface SessionStore {
  load(id: string): Promise<SessionState | undefined>;
  /** Saves the whole state atomically: a reader sees the previous or the new state, never a mix. */
  save(state: SessionState): Promise<void>;
  delete(id: string): Promise<boolean>;
}

export interface StoreSessionsOptions {
  /** Key prefix (default `gatehouse:session:`). */
  prefix?: string;
  /** Forget a session this long after its last checkpoint. Default: kept until deleted. */
  ttlMs?: number;
}

/**
 * Sessions in a core `Store`: the in-memory one (the default), or a `RedisStore` so that another process
 * can resume, approve or decide. The state is saved as one JSON string, so a reader never shares objects
 * with the runner and each save is a single atomic `set`.
 */
export function storeSessions(store: Store = new MemoryStore(), options: StoreSessionsOptions = {}): SessionStore {
  const prefix = options.prefix ?? 'gatehouse:session:';
  const setOptions = options.ttlMs === undefined ? undefined : { ttlMs: options.ttlMs };
  return {
    async load(id) {
      const text = await store.get<string>(prefix + id);
      return text === undefined ? undefined : (JSON.parse(text) as SessionState);
    },
    save: (state) => store.set(prefix + state.id, JSON.stringify(state), setOptions),
    delete: (id) => store.delete(prefix + id),
  };
}

/** Whether a value has the shape of a `SessionStore`. */
export function isSessionStore(value: unknown): value is SessionStore {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return ['load', 'save', 'delete'].every((name) => typeof candidate[name] === 'function');
}
