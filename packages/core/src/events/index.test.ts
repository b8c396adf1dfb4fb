import { describe, expect, it } from 'vitest';
import { EventBus } from './index.js';

declare module '../index.js' {
  interface GatehouseEventMap {
    'test-happened': { time: number; principal: { team?: string }; value: number };
  }
}

describe('EventBus', () => {
  it('delivers typed events to subscribers and stops after unsubscribe', () => {
    const bus = new EventBus();
    const seen: number[] = [];
    const off = bus.on('test-happened', (event) => {
      seen.push(event.value);
    });
    expect(bus.has('test-happened')).toBe(true);
    bus.emit('test-happened', { time: 1, principal: {}, value: 1 });
    off();
    bus.emit('test-happened', { time: 2, principal: {}, value: 2 });
    expect(seen).toEqual([1]);
    expect(bus.has('test-happened')).toBe(false);
  });

  it('a subscriber that throws or rejects never breaks the emitter or other subscribers', async () => {
    const reported: string[] = [];
    const bus = new EventBus({ onListenerError: (error) => reported.push((error as Error).message) });
    const seen: number[] = [];
    const listenerErrors: string[] = [];
    bus.on('listener-error', (event) => {
      listenerErrors.push(event.event);
    });
    bus.on('test-happened', () => {
      throw new Error('sync failure');
    });
    bus.on('test-happened', async () => {
      throw new Error('async failure');
    });
    bus.on('test-happened', (event) => {
      seen.push(event.value);
    });
    expect(() => bus.emit('test-happened', { time: 1, principal: {}, value: 42 })).not.toThrow();
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([42]);
    expect(reported).toEqual(['sync failure', 'async failure']);
    expect(listenerErrors).toEqual(['test-happened', 'test-happened']);
  });

  it('onAny receives every event with its type', () => {
    const bus = new EventBus();
    const types: string[] = [];
    const off = bus.onAny((event) => {
      types.push(event.type);
    });
    bus.emit('test-happened', { time: 1, principal: {}, value: 1 });
    off();
    bus.emit('test-happened', { time: 1, principal: {}, value: 2 });
    expect(types).toEqual(['test-happened']);
  });
});
