// The example at the top of packages/core/README.md, run as written, so the README cannot rot. The one
// difference: Redis is a real `redis-server` started by `startRedisServer()` instead of `process.env.REDIS_URL`.
import {
  compose,
  createGateway,
  createStreamScanner,
  type EventBase,
  type Middleware,
  PolicyDeniedError,
  type Principal,
  RateLimitedError,
  redact,
  scan,
} from '@gatehouse/core';
import { RedisStore } from '@gatehouse/core/redis';
import { type RedisServer, startRedisServer } from '@gatehouse/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// README: an app event, added to the typed event map by declaration merging.
declare module '@gatehouse/core' {
  interface GatehouseEventMap {
    'ask-answered': EventBase & { chars: number };
  }
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});

describe('core README example', () => {
  it('runs middleware under a scope, limits per team in Redis, redacts and emits events', async () => {
    const REDIS_URL = redis.url;

    // --- README ---
    const store = new RedisStore({ url: REDIS_URL, prefix: 'my-app:' });
    const gateway = createGateway({ store, defaultScope: { metadata: { app: 'billing' } } });

    interface Ask {
      principal: Principal;
      prompt: string;
    }

    // Refuse callers without a team (the principal is the one gateway.run() set).
    const requireTeam: Middleware<Ask, string> = async (ctx, next) => {
      if (!ctx.principal.team) throw new PolicyDeniedError({ message: 'Access denied: no team in scope' });
      return next();
    };

    // Two asks a minute per team, counted in Redis, so the limit holds across every instance of the app.
    const perTeamLimit: Middleware<Ask, string> = async (ctx, next) => {
      const { allowed, resetAt } = await gateway.store.consume(`asks:${ctx.principal.team}`, 1, 2, 60_000);
      if (!allowed) {
        const retryAfterMs = resetAt - Date.now();
        throw new RateLimitedError({ message: 'Rate limited: 2 asks a minute', limit: 'asks', retryAfterMs });
      }
      return next();
    };

    // Personal data and secrets never leave the process: replace them before the handler sees the prompt.
    const redactPrompt: Middleware<Ask, string> = async (ctx, next) =>
      next({ ...ctx, prompt: redact(ctx.prompt).text });

    const ask = compose([requireTeam, perTeamLimit, redactPrompt], async (ctx) => {
      gateway.events.emit('ask-answered', { time: Date.now(), principal: ctx.principal, chars: ctx.prompt.length });
      return `you asked: ${ctx.prompt}`;
    });

    const audit: string[] = [];
    gateway.events.on('ask-answered', (event) => {
      audit.push(`${event.principal.team} ${event.chars}`);
    });

    const answer = await gateway.run({ principal: { team: 'risk', user: 'ana' } }, () =>
      ask({ principal: gateway.scope().principal, prompt: 'mail ana@example.com about it' }),
    );
    expect(answer).toBe('you asked: mail [REDACTED:email] about it');

    // A second ask passes; the third within the minute is refused, by any instance sharing this Redis.
    const asRisk = (prompt: string) =>
      gateway.run({ principal: { team: 'risk' } }, () => ask({ principal: gateway.scope().principal, prompt }));
    await asRisk('and the invoice?');
    await expect(asRisk('and again?')).rejects.toSatisfy(RateLimitedError.isInstance);
    // No team in scope: refused before anything else runs.
    await expect(ask({ principal: gateway.scope().principal, prompt: 'hi' })).rejects.toSatisfy(
      PolicyDeniedError.isInstance,
    );

    // The detectors on their own: whole text, or a stream cut anywhere (nothing sensitive is ever released).
    expect(scan('key sk-proj-Xq7Lm2Pz9Rt4Vb8Nc1Kd6Jf3Hs5Gw0Ye')[0]?.detector).toBe('openai-key');
    const scanner = createStreamScanner();
    let streamed = '';
    for (const chunk of ['card 4111 1111 ', '1111 1111, thanks']) streamed += scanner.push(chunk).release;
    streamed += scanner.end().release;
    expect(streamed).toBe('card [REDACTED:card], thanks');

    await gateway.close();
    // --- end of README ---

    expect(audit).toEqual(['risk 30', 'risk 16']);
    expect(gateway.scope().metadata).toEqual({ app: 'billing' });
    // The count lives in Redis under the store's prefix: another instance sees it.
    const other = new RedisStore({ url: REDIS_URL, prefix: 'my-app:' });
    expect((await other.consume('asks:risk', 1, 2, 60_000)).allowed).toBe(false);
    await other.close();
  });
});
