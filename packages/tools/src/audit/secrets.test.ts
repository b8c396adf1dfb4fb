import { describe, expect, it } from 'vitest';
import { redactArguments, redactSecrets } from './secrets.js';

describe('redactArguments', () => {
  it('redacts values under credential keys, whatever their case or separators, and detector matches', () => {
    const args = {
      authorization: 'Basic abc',
      Token: 'abc',
      password: 'hunter2',
      apiKey: 'k',
      api_key: 'k',
      'x-api-key': 'k',
      secret: 'shh',
      client_secret: 'shh',
      githubToken: 'ghp_whatever',
      credentials: { user: 'ana', pass: 'x' },
      max_tokens: 100,
      body: 'use sk-proj-Xq7Lm2Pz9Rt4Vb8Nc1Kd6Jf3Hs5Gw0Ye please',
      list: [{ password: 'x' }, 'Bearer abcdef0123456789abcdef'],
    };
    expect(redactArguments(args)).toEqual({
      authorization: '[REDACTED]',
      Token: '[REDACTED]',
      password: '[REDACTED]',
      apiKey: '[REDACTED]',
      api_key: '[REDACTED]',
      'x-api-key': '[REDACTED]',
      secret: '[REDACTED]',
      client_secret: '[REDACTED]',
      githubToken: '[REDACTED]',
      credentials: '[REDACTED]',
      max_tokens: 100,
      body: 'use [REDACTED:openai-key] please',
      list: [{ password: '[REDACTED]' }, '[REDACTED:bearer]'],
    });
    expect(args.password).toBe('hunter2');
  });

  it('leaves personal data alone by default and answers undefined for clean text', () => {
    expect(redactArguments({ to: 'ana@example.com' })).toEqual({ to: 'ana@example.com' });
    expect(redactSecrets('nothing to see')).toBeUndefined();
  });
});
