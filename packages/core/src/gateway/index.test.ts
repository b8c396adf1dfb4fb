import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigError } from '../errors/index.js';
import { MemoryStore } from '../store/index.js';
import { createGateway, type Layer } from './index.js';

class FakeClient {
  greet(name: string): string {
    return `hello ${name}`;
  }
}

function fakeLayer(): Layer<'models', { who(): string | undefined }> {
  return {
    kind: 'models',
    attach(runtime) {
      return {
        api: { who: () => runtime.scope().principal.team },
        wraps: (client) => client instanceof FakeClient,
        wrap: <T extends object>(client: T) =>
          new Proxy(client, {
            get(target, property, receiver) {
              const value = Reflect.get(target, property, receiver);
              if (property !== 'greet') return value;
              return (name: string) =>
                `${(value as FakeClient['greet']).call(target, name)} (team ${runtime.scope().principal.team})`;
            },
          }),
      };
    },
  };
}

describe('createGateway', () => {
  it('rejects a bad option with a ConfigError naming the path and what was expected', () => {
    const cases: [unknown, RegExp, string][] = [
      [{ store: { get() {} } }, /options\.store: expected a Store/, 'options.store'],
      [
        { models: { kind: 'tools', attach() {} } },
        /options\.models: expected the result of models\(…\)/,
        'options.models',
      ],
      [
        { telemetry: { recordContent: 'yes' } },
        /options\.telemetry\.recordContent: .*boolean/i,
        'options.telemetry.recordContent',
      ],
      [
        { defaultScope: { principal: { team: 3 } } },
        /options\.defaultScope\.principal\.team/,
        'options.defaultScope.principal.team',
      ],
      [{ modles: {} }, /options.*modles/, 'options'],
    ];
    for (const [options, message, path] of cases) {
      const error = (() => {
        try {
          createGateway(options as never);
        } catch (e) {
          return e;
        }
      })();
      expect(ConfigError.isInstance(error), JSON.stringify(options)).toBe(true);
      expect((error as Error).message).toMatch(message);
      expect((error as ConfigError).path).toBe(path);
    }
  });

  it('sets the scope with run(); nested scopes merge across await and timers', async () => {
    const gateway = createGateway({});
    const seen: unknown[] = [];
    await gateway.run({ principal: { team: 'risk', tags: ['a'] }, metadata: { feature: 'x' } }, async () => {
      await sleep(1);
      seen.push(gateway.scope().principal);
      await gateway.run(
        { principal: { user: 'ana', tags: ['b'] }, metadata: { step: 2 }, sessionId: 's1' },
        async () => {
          await new Promise<void>((resolve) =>
            setTimeout(() => {
              seen.push(gateway.scope());
              resolve();
            }, 2),
          );
        },
      );
      seen.push(gateway.scope().principal);
    });
    expect(seen[0]).toEqual({ team: 'risk', tags: ['a'] });
    expect(seen[1]).toMatchObject({
      principal: { team: 'risk', user: 'ana', tags: ['a', 'b'] },
      metadata: { feature: 'x', step: 2 },
      sessionId: 's1',
    });
    expect(seen[2]).toEqual({ team: 'risk', tags: ['a'] });
    expect(gateway.scope().principal).toEqual({});
  });

  it('never leaks concurrent run() scopes into each other', async () => {
    const gateway = createGateway({});
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        gateway.run({ principal: { user: `u${i}` } }, async () => {
          await sleep(Math.floor(Math.random() * 5));
          const first = gateway.scope().principal.user;
          await Promise.resolve();
          await sleep(Math.floor(Math.random() * 5));
          return [first, gateway.scope().principal.user];
        }),
      ),
    );
    results.forEach(([first, second], i) => {
      expect(first).toBe(`u${i}`);
      expect(second).toBe(`u${i}`);
    });
  });

  it('combines abort signals of nested scopes', async () => {
    const gateway = createGateway({});
    const outer = new AbortController();
    const inner = new AbortController();
    const signal = gateway.run({ signal: outer.signal }, () =>
      gateway.run({ signal: inner.signal }, () => gateway.scope().signal),
    );
    expect(signal?.aborted).toBe(false);
    outer.abort(new Error('stop'));
    expect(signal?.aborted).toBe(true);
  });

  it('applies defaultScope outside run() and under it', () => {
    const gateway = createGateway({ defaultScope: { principal: { team: 'platform' } } });
    expect(gateway.scope().principal).toEqual({ team: 'platform' });
    expect(gateway.run({ principal: { user: 'bo' } }, () => gateway.scope().principal)).toEqual({
      team: 'platform',
      user: 'bo',
    });
  });

  it('validates the scope given to run()', () => {
    const gateway = createGateway({});
    expect(() => gateway.run({ principal: { team: '' } }, () => 1)).toThrow(
      /scope\.principal\.team: expected a non-empty string/,
    );
    expect(() => gateway.run({ pricipal: {} } as never, () => 1)).toThrow(/scope\.pricipal: expected no such key/);
  });

  it('hands wrap() to the layer that knows the client, keeping its type', () => {
    const gateway = createGateway({ models: fakeLayer() });
    const client = gateway.wrap(new FakeClient());
    expectTypeOf(client).toEqualTypeOf<FakeClient>();
    expectTypeOf(gateway.models.who).toEqualTypeOf<() => string | undefined>();
    expect(gateway.run({ principal: { team: 'risk' } }, () => client.greet('ana'))).toBe('hello ana (team risk)');
    expect(gateway.run({ principal: { team: 'ops' } }, () => gateway.models.who())).toBe('ops');
  });

  it('fails clearly when no layer knows the client', () => {
    const gateway = createGateway({});
    class OpenAI {}
    expect(() => gateway.wrap(new OpenAI())).toThrow(/OpenAI is handled by the models layer.*models: models\(/);
    expect(() => gateway.wrap(new FakeClient())).toThrow(/no layer of this gateway knows FakeClient/);
    expect(() => gateway.wrap(42 as never)).toThrow(ConfigError);
  });

  it('uses the store given, and closes it', async () => {
    const store = new MemoryStore();
    const gateway = createGateway({ store });
    expect(gateway.store).toBe(store);
    await store.set('k', 1);
    await gateway.close();
    expect(await store.get('k')).toBeUndefined();
  });
});
