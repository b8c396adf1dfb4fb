import { createGateway } from '@gatehouse/core';
import { RedisStore } from '@gatehouse/core/redis';
import { type RedisServer, startRedisServer } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAgent } from '../agent/index.js';
import { agents } from '../layer/index.js';
import { fakeTool, scriptedModel } from '../testing/index.js';

describe('sessions in Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(() => redis.stop());

  it('pauses for approval in one gateway and finishes in another, each with its own Redis connection', async () => {
    const deploy = () => fakeTool('deploy', { needsApproval: true, result: 'deployed v2' });
    const agent = (tool = deploy()) =>
      defineAgent({ name: 'release', instructions: 'Ship.', model: 'm', tools: [tool] });
    const first = createGateway({
      store: new RedisStore({ url: redis.url }),
      agents: agents({
        client: scriptedModel([{ toolCalls: [{ id: 'd1', name: 'deploy', arguments: { version: 2 } }] }]),
      }),
    });
    const paused = await first.agents.run(agent(), 'ship v2', { sessionId: 'release-42' });
    expect(paused.status).toBe('awaiting-approval');
    await first.close();

    const tool = deploy();
    const sessionsStore = new RedisStore({ url: redis.url, prefix: 'gatehouse:' });
    const second = createGateway({
      agents: agents({
        client: scriptedModel(['v2 is live']),
        // A core Store given directly is used through storeSessions().
        sessions: { store: sessionsStore },
        agents: [agent(tool)],
      }),
    });
    try {
      expect((await second.agents.session('release-42'))?.status).toBe('awaiting-approval');
      const result = await second.agents.approve('release-42', 'd1');
      expect(result).toMatchObject({ status: 'finished', output: 'v2 is live' });
      expect(tool.calls.map((call) => call.input)).toEqual([{ version: 2 }]);
    } finally {
      await second.close();
      await sessionsStore.close();
    }
  });
});
