import { agents, defineAgent, tool } from '@gatehouse/agents';
import { createGateway } from '@gatehouse/core';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import { z } from 'zod';
import { measure, type Sample } from './measure.js';

const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };

function completion(message: ChatCompletion.Choice['message'], finish: 'stop' | 'tool_calls'): ChatCompletion {
  return {
    id: 'bench',
    object: 'chat.completion',
    created: 0,
    model: 'bench',
    choices: [{ index: 0, finish_reason: finish, logprobs: null, message }],
    usage,
  };
}

const toolCall = completion(
  {
    role: 'assistant',
    content: null,
    refusal: null,
    tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'now', arguments: '{}' } }],
  },
  'tool_calls',
);
const answer = completion({ role: 'assistant', content: 'It is noon.', refusal: null }, 'stop');

/** An instant model: a tool call when the last message is the user's, else the answer. No parsing, no I/O. */
const instantModel = {
  chat: {
    completions: {
      create: async (params: { messages: { role: string }[] }) =>
        params.messages.at(-1)!.role === 'user' ? toolCall : answer,
    },
  },
};

const now = tool({
  name: 'now',
  description: 'The time',
  input: z.object({}),
  idempotent: true,
  execute: () => 'noon',
});
const clock = defineAgent({ name: 'clock', instructions: 'Tell the time.', model: 'bench', tools: [now] });

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

/**
 * The agents layer: runner overhead per step (two steps a run: a tool call, then the answer; an instant model
 * and an instant tool, checkpoints into the in-memory store) against the model and tool calls alone, and the
 * heap held by 10,000 idle (finished) sessions in the memory store. Run node with `--expose-gc` for a precise
 * memory figure; without it the figure is a heapUsed delta. The memory sample reports bytes, not time: its
 * p50/p99/mean are bytes per session.
 */
export async function agentsBench(): Promise<Sample[]> {
  const gateway = createGateway({ agents: agents({ client: instantModel }) });
  const messages = [{ role: 'user' }];
  const baseline = await measure(
    'agents: model + tool calls alone, per step (baseline)',
    async () => {
      await instantModel.chat.completions.create({ messages });
      await now.execute({}, undefined as never);
    },
    { iterations: 20_000, warmup: 2_000 },
  );
  let counter = 0;
  // Each run is a fresh session in the memory store; unique ids keep the store growing like real traffic would.
  const run = await measure(
    'agents: one run of two steps (run() end to end)',
    () => gateway.agents.run(clock, 'What time is it?', { sessionId: `run-${counter++}` }),
    { iterations: 20_000, batch: 50, warmup: 2_000 },
  );
  const perStep = (value: number, base: number) => Math.max(0, value / 2 - base);
  const overhead: Sample = {
    name: 'agents: runner overhead per step (excluding model and tool time)',
    p50: perStep(run.p50, baseline.p50),
    p99: perStep(run.p99, baseline.p99),
    mean: perStep(run.mean, baseline.mean),
    samples: run.samples * 2,
  };
  await gateway.close();

  const idle = createGateway({ agents: agents({ client: instantModel }) });
  const sessions = 10_000;
  const before = heapUsed();
  for (let index = 0; index < sessions; index++) {
    await idle.agents.run(clock, 'What time is it?', { sessionId: `idle-${index}` });
  }
  const after = heapUsed();
  const perSession = (after - before) / sessions;
  const megabytes = ((after - before) / 1024 / 1024).toFixed(1);
  const memory: Sample = {
    name: `agents: heap for ${sessions.toLocaleString('en')} idle sessions = ${megabytes} MB (${(globalThis as { gc?: unknown }).gc ? 'after gc' : 'heapUsed delta, no --expose-gc'}; columns: per session)`,
    unit: 'bytes',
    p50: perSession,
    p99: perSession,
    mean: perSession,
    samples: sessions,
  };
  await idle.close();
  return [baseline, run, overhead, memory];
}
