import OpenAI from 'openai';

/** What the in-memory `fetch` answers: the text and token counts of a chat completion. */
export interface MemoryAnswer {
  content: string;
  promptTokens: number;
  completionTokens: number;
}

const headers = { 'content-type': 'application/json', 'x-request-id': 'req_bench' };

/**
 * A real OpenAI client whose every chat completion is answered from memory (a fresh `Response` over a string built
 * once), so a benchmark measures the gateway, not a network.
 */
export function memoryClient(answer: MemoryAnswer = { content: 'ok', promptTokens: 3, completionTokens: 1 }): OpenAI {
  const completion = JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: answer.content, refusal: null },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
    usage: {
      prompt_tokens: answer.promptTokens,
      completion_tokens: answer.completionTokens,
      total_tokens: answer.promptTokens + answer.completionTokens,
    },
  });
  const fetch = (async () => new Response(completion, { status: 200, headers })) as unknown as typeof globalThis.fetch;
  return new OpenAI({ apiKey: 'bench', baseURL: 'http://bench.invalid/v1', fetch, maxRetries: 0 });
}

/** The route both model benchmarks call: the memory client's model first, a second target to fall back to. */
export const fallbackTargets = [
  { provider: 'openai', model: 'gpt-4o' },
  { provider: 'openai', model: 'gpt-4o-mini' },
];
