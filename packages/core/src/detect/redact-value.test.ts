import { describe, expect, it } from 'vitest';
import { redactValue } from './redact-value.js';

const openaiKey = `sk-proj-${'aB3dE5fG7hJ9kL2mN4pQ6rS8tU1vW3xY5zA7'.repeat(2)}`;

describe('redactValue', () => {
  it('replaces values under secret-looking keys whatever their case, dashes or underscores', () => {
    const value = {
      Authorization: 'Basic dXNlcjpwYXNz',
      'Proxy-Authorization': 'Basic abc',
      cookie: 'session=1',
      'Set-Cookie': ['a=1', 'b=2'],
      'X-API-Key': 'k',
      api_key: 'k',
      apiKey: 'k',
      API_KEY: 'k',
      token: 'short',
      access_token: 'a',
      refreshToken: 'r',
      password: 'hunter2',
      passwd: 'hunter2',
      secret: { nested: 'object' },
      client_secret: 'c',
      privateKey: 'p',
      username: 'ana',
      tokens: 42,
    };
    const result = redactValue(value);
    for (const key of Object.keys(value).filter((key) => key !== 'username' && key !== 'tokens'))
      expect(result[key as keyof typeof value], key).toBe('[REDACTED]');
    expect(result.username).toBe('ana');
    expect(result.tokens).toBe(42);
  });

  it('redacts strings anywhere, in nested objects and arrays, keeping other values', () => {
    const value = {
      query: 'mail ana@example.com',
      args: [`use ${openaiKey}`, 1, true, null, [{ note: 'card 4111 1111 1111 1111' }]],
      count: 3,
      missing: undefined,
    };
    expect(redactValue(value)).toEqual({
      query: 'mail [REDACTED:email]',
      args: ['use [REDACTED:openai-key]', 1, true, null, [{ note: 'card [REDACTED:card]' }]],
      count: 3,
      missing: undefined,
    });
    expect(redactValue('ana@example.com')).toBe('[REDACTED:email]');
    expect(redactValue(7)).toBe(7);
  });

  it('never changes its input', () => {
    const value = { headers: { authorization: 'Bearer abcdef1234567890xyz' }, body: ['ana@example.com'] };
    const before = structuredClone(value);
    const result = redactValue(value);
    expect(value).toEqual(before);
    expect(result).not.toBe(value);
    expect(result.body).not.toBe(value.body);
  });

  it('replaces a cycle with [Circular] and copies a shared (acyclic) reference twice', () => {
    const node: Record<string, unknown> = { name: 'root', mail: 'ana@example.com' };
    node.self = node;
    node.list = [node, { back: node }];
    const shared = { mail: 'bob@example.org' };
    const result = redactValue({ node, a: shared, b: shared });
    expect(result.node).toEqual({
      name: 'root',
      mail: '[REDACTED:email]',
      self: '[Circular]',
      list: ['[Circular]', { back: '[Circular]' }],
    });
    expect(result.a).toEqual({ mail: '[REDACTED:email]' });
    expect(result.b).toEqual({ mail: '[REDACTED:email]' });
  });

  it('replaces nesting beyond maxDepth with [Truncated] instead of throwing', () => {
    let deep: unknown = 'ana@example.com';
    for (let level = 0; level < 10_000; level++) deep = { next: deep };
    expect(() => redactValue(deep)).not.toThrow();
    let shallow = redactValue({ a: { b: { c: 'x' } } }, { maxDepth: 2 }) as Record<string, any>;
    expect(shallow).toEqual({ a: { b: '[Truncated]' } });
    shallow = redactValue([[['x']]], { maxDepth: 1 }) as any;
    expect(shallow).toEqual(['[Truncated]']);
  });

  it('takes extra secret keys and a custom replacement', () => {
    const result = redactValue(
      { sessionId: 's-1', db_password: 'pw', text: 'ana@example.com' },
      { secretKeys: ['session-id', 'DB_PASSWORD'], replacement: (finding) => `<${finding.label}>` },
    );
    expect(result).toEqual({ sessionId: '[REDACTED]', db_password: '[REDACTED]', text: '<Email address>' });
  });

  it('copies dates, follows toJSON, and survives throwing getters and a __proto__ key', () => {
    const date = new Date('2024-01-02T03:04:05Z');
    const withGetter = Object.defineProperty({}, 'boom', {
      enumerable: true,
      get() {
        throw new Error('no');
      },
    });
    const parsed = JSON.parse('{"__proto__": {"polluted": "ana@example.com"}}');
    const result = redactValue({
      date,
      url: new URL('https://example.com/?mail=ana@example.com'),
      withGetter,
      parsed,
    }) as Record<string, any>;
    expect(result.date).toEqual(date);
    expect(result.date).not.toBe(date);
    expect(result.url).toBe('https://example.com/?mail=[REDACTED:email]');
    expect(result.withGetter).toEqual({ boom: '[Unserializable]' });
    expect(Object.getPrototypeOf(result.parsed)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(result.parsed, '__proto__')?.value).toEqual({
      polluted: '[REDACTED:email]',
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
