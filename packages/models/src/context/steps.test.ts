import { createGateway } from '@gatehouse/core';
import OpenAI from 'openai';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { models } from '../layer/index.js';
import { createProviderServer, type ProviderServer, reply } from '../testing/index.js';
import type { ModelMiddleware } from './index.js';
import { stepsMiddleware } from './steps.js';

const server: ProviderServer = await createProviderServer();
afterAll(() => server.close());
beforeEach(() => server.reset());

/** Steps that record what runs, in order; `refuse` makes `before` throw, `reject` makes `after` throw. */
function recorder(name: string, log: string[], options: { refuse?: boolean; reject?: boolean } = {}) {
  return stepsMiddleware<string>({
    before: () => {
      log.push(`${name}:before`);
      if (options.refuse) throw new Error(`${name} refuses`);
      return `${name}-state`;
    },
    after: (_context, result, state) => {
      log.push(`${name}:after(${state})`);
      if (options.reject) throw new Error(`${name} rejects the answer`);
      return result;
    },
    failed: (_context, error, state) => {
      log.push(`${name}:failed(${state}, ${error instanceof Error ? error.message : String(error)})`);
    },
  });
}

/** A plain middleware (no steps): placed first, it makes the steps after it run as ordinary middleware. */
const plain: ModelMiddleware = (_context, next) => next();

/** Runs one call with `middleware` and answers the log and the call's outcome. */
async function call(leading: boolean, build: (log: string[]) => ModelMiddleware[]) {
  const log: string[] = [];
  const openai = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'sk-test', maxRetries: 0 });
  const gateway = createGateway({
    models: models({ providers: { openai }, costs: false, middleware: [...(leading ? [] : [plain]), ...build(log)] }),
  });
  const outcome = await gateway
    .wrap(openai)
    .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
    .then(
      (completion) => completion.choices[0]?.message.content,
      (error: unknown) => `error: ${error instanceof Error ? error.message : String(error)}`,
    );
  return { log, outcome };
}

describe('steps, run in the call envelope when they lead the chain, as they run as middleware', () => {
  const cases: [string, (log: string[]) => ModelMiddleware[], () => void][] = [
    ['success', (log) => [recorder('a', log), recorder('b', log)], () => server.script([reply.text('hello')])],
    ['upstream failure', (log) => [recorder('a', log), recorder('b', log)], () => server.script([reply.error(400)])],
    [
      'a refusal before the call',
      (log) => [recorder('a', log), recorder('b', log, { refuse: true }), recorder('c', log)],
      () => server.script([reply.text('never sent')]),
    ],
    [
      'an inner step rejecting the answer',
      (log) => [recorder('a', log), recorder('b', log, { reject: true })],
      () => server.script([reply.text('hello')]),
    ],
  ];
  for (const [name, build, script] of cases)
    test(name, async () => {
      script();
      const asMiddleware = await call(false, build);
      server.reset();
      script();
      const inEnvelope = await call(true, build);
      expect(inEnvelope).toEqual(asMiddleware);
      expect(inEnvelope.log.length).toBeGreaterThan(1);
    });

  test('what each case logs', async () => {
    server.script([reply.text('hello')]);
    expect((await call(true, (log) => [recorder('a', log), recorder('b', log, { reject: true })])).log).toEqual([
      'a:before',
      'b:before',
      'b:after(b-state)',
      'a:failed(a-state, b rejects the answer)',
    ]);
    server.reset();
    server.script([reply.text('never sent')]);
    const refused = await call(true, (log) => [recorder('a', log), recorder('b', log, { refuse: true })]);
    expect(refused).toEqual({
      log: ['a:before', 'b:before', 'a:failed(a-state, b refuses)'],
      outcome: 'error: b refuses',
    });
    expect(server.requests).toHaveLength(0);
  });
});
