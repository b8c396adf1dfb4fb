import { describe, expect, it } from 'vitest';
import * as core from '../index.js';
import { BudgetExceededError, ConfigError, GatehouseError, RateLimitedError, UpstreamError } from './index.js';

const errorClasses = Object.entries(core).filter(
  ([, value]) => typeof value === 'function' && value.prototype instanceof Error,
) as [string, new (...args: any[]) => Error][];

describe('errors', () => {
  it('every exported error class carries the marker and its own isInstance', () => {
    expect(errorClasses.length).toBeGreaterThanOrEqual(10);
    for (const [name, ErrorClass] of errorClasses) {
      expect(ErrorClass === GatehouseError || ErrorClass.prototype instanceof GatehouseError, name).toBe(true);
      const instance = new (ErrorClass as any)(
        ErrorClass === GatehouseError
          ? 'GATEHOUSE_CONFIG'
          : { message: 'x', limit: 'l', route: 'r', guardrail: 'g', phase: 'input', timeoutMs: 1, field: 'f' },
        { message: 'x' },
      );
      expect((instance as any)[Symbol.for('gatehouse.error')], name).toBe(true);
      expect(GatehouseError.isInstance(instance), name).toBe(true);
      expect(typeof (ErrorClass as any).isInstance, name).toBe('function');
      expect((ErrorClass as any).isInstance(instance), name).toBe(true);
      expect(instance.name, name).toBe(name);
      expect((instance as GatehouseError).code, name).toMatch(/^GATEHOUSE_[A-Z_]+$/);
    }
  });

  it('isInstance works across duplicated installs (a copy of the class with the same markers)', () => {
    // Simulates a second copy of @gatehouse/core: a different class, the same Symbol.for marker.
    const foreign = Object.assign(new Error('from another copy'), {
      [Symbol.for('gatehouse.error')]: true,
      [Symbol.for('gatehouse.error.ConfigError')]: true,
      code: 'GATEHOUSE_CONFIG',
    });
    expect(GatehouseError.isInstance(foreign)).toBe(true);
    expect(ConfigError.isInstance(foreign)).toBe(true);
    expect(UpstreamError.isInstance(foreign)).toBe(false);
    expect(GatehouseError.isInstance(new Error('plain'))).toBe(false);
    expect(GatehouseError.isInstance(null)).toBe(false);
  });

  it('subclass isInstance tells subclasses apart', () => {
    const budget = new BudgetExceededError({ message: 'over', limit: 'team:risk dollars/day', retryAfterMs: 1000 });
    expect(BudgetExceededError.isInstance(budget)).toBe(true);
    expect(RateLimitedError.isInstance(budget)).toBe(false);
    expect(budget.retryAfterMs).toBe(1000);
    expect(budget.code).toBe('GATEHOUSE_BUDGET_EXCEEDED');
    expect(new RateLimitedError({ message: 'slow down', limit: 'x' }).isRetryable).toBe(true);
  });

  it('keeps the cause and serialises without it', () => {
    const cause = new Error('socket hang up');
    const error = new UpstreamError({ message: 'openai failed', cause, status: 502, target: 'openai:gpt-4o' });
    expect(error.cause).toBe(cause);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'UpstreamError',
      code: 'GATEHOUSE_UPSTREAM',
      message: 'openai failed',
      isRetryable: false,
    });
  });
});
