import { createGateway } from '@gatehouse/core';
import { cacheMiddleware, models } from '@gatehouse/models';
import { measure, type Sample } from './measure.js';
import { memoryClient } from './memory-client.js';

const client = () =>
  memoryClient({ content: 'A short answer of a few words.', promptTokens: 300, completionTokens: 8 });

/** A request of a realistic size: a system prompt of about 1 kB and a question. */
const system = 'You answer questions about the product, briefly and politely. '.repeat(16);
const messages = (question: string) => [
  { role: 'system' as const, content: system },
  { role: 'user' as const, content: question },
];

/**
 * The response cache on a route: a call without the cache (upstream answered from memory), a hit (the key
 * hashed, the entry parsed, no upstream), and a miss that writes (a new question each time, in an LRU that
 * evicts). The gap between "no cache" and "miss" is what the cache costs a call it cannot answer.
 */
export async function cacheBench(): Promise<Sample[]> {
  const gateway = (cached: boolean) =>
    createGateway({
      models: models({
        providers: { openai: client() },
        routes: { faq: { targets: [{ provider: 'openai', model: 'gpt-4o' }] } },
        middleware: cached ? [cacheMiddleware({ routes: ['faq'], maxEntries: 1000 })] : [],
      }),
    }).wrap(client());
  const plain = gateway(false);
  const cached = gateway(true);
  const options = { iterations: 20_000, batch: 50, warmup: 3_000 };
  await cached.chat.completions.create({ model: 'faq', messages: messages('What is the refund policy?') });
  let counter = 0;
  const samples = [
    await measure(
      'route, no cache',
      () => plain.chat.completions.create({ model: 'faq', messages: messages('What is the refund policy?') }),
      options,
    ),
    await measure(
      'route, cache hit (in-process LRU)',
      () => cached.chat.completions.create({ model: 'faq', messages: messages('What is the refund policy?') }),
      options,
    ),
    await measure(
      'route, cache miss and write',
      () => cached.chat.completions.create({ model: 'faq', messages: messages(`Question ${counter++}?`) }),
      options,
    ),
  ];
  // The misses above evicted the first answer: write it again, then replay it as a stream (the memory fetch
  // answers JSON only, so a stream must come from the cache).
  await cached.chat.completions.create({ model: 'faq', messages: messages('What is the refund policy?') });
  samples.push(
    await measure(
      'route, cache hit replayed as a stream',
      async () => {
        const stream = await cached.chat.completions.create({
          model: 'faq',
          messages: messages('What is the refund policy?'),
          stream: true,
        });
        for await (const _ of stream);
      },
      options,
    ),
  );
  return samples;
}
