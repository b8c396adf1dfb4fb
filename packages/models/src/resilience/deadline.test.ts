import { describe, expect, test } from 'vitest';
import { AttemptDeadline } from './deadline.js';

/** Starts a deadline of `ms` (within `outer`, if given) that records its name in `fired` when it expires. */
function start(fired: string[], name: string, ms: number, outer?: AttemptDeadline): AttemptDeadline {
  const deadline = new AttemptDeadline(ms, outer);
  deadline.start(ms, () => fired.push(name));
  return deadline;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the shared deadline timer', () => {
  test('deadlines of several durations expire in order; cancelled ones never fire', async () => {
    const fired: string[] = [];
    start(fired, 'b60', 60);
    const cancelled = start(fired, 'x20', 20);
    start(fired, 'a20', 20);
    start(fired, 'c90', 90);
    cancelled.cancel();
    await sleep(40);
    expect(fired).toEqual(['a20']);
    await sleep(100);
    expect(fired).toEqual(['a20', 'b60', 'c90']);
  });

  test('a deadline cut short by an enclosing one expires with it, ahead of longer ones added before', async () => {
    const fired: string[] = [];
    start(fired, 'long', 100);
    const outer = new AttemptDeadline(30, undefined);
    start(fired, 'inner', 100, outer);
    await sleep(60);
    expect(fired).toEqual(['inner']);
    await sleep(80);
    expect(fired).toEqual(['inner', 'long']);
  });

  test('a deadline started after the timer was armed for a later one fires on time', async () => {
    const fired: string[] = [];
    start(fired, 'late', 200);
    start(fired, 'soon', 15);
    while (fired.length === 0) await sleep(5);
    expect(fired).toEqual(['soon']);
  });

  test('attempts that end before their deadline leave nothing behind', async () => {
    const fired: string[] = [];
    // Many short-lived attempts, as on a busy gateway: each ends before its deadline.
    for (let index = 0; index < 10_000; index++) start(fired, `n${index}`, 50).cancel();
    const last = start(fired, 'last', 20);
    await sleep(80);
    expect(fired).toEqual(['last']);
    expect(last.expired).toBe(false);
  });

  test('an expiry that starts another deadline (the next attempt) is served by the same timer', async () => {
    const fired: string[] = [];
    const first = new AttemptDeadline(10, undefined);
    first.start(10, () => {
      fired.push('first');
      start(fired, 'second', 10);
    });
    await sleep(80);
    expect(fired).toEqual(['first', 'second']);
  });
});

describe('the time an attempt has left', () => {
  test('all of it during the synchronous start, then read from the clock; an enclosing deadline caps it', async () => {
    const deadline = new AttemptDeadline(200, undefined);
    expect(deadline.remainingMs()).toBe(200);
    deadline.started();
    await sleep(30);
    const left = deadline.remainingMs();
    expect(left).toBeLessThanOrEqual(175);
    expect(left).toBeGreaterThan(0);
    const outer = new AttemptDeadline(50, undefined);
    const inner = new AttemptDeadline(500, outer);
    expect(inner.remainingMs()).toBeLessThanOrEqual(50);
  });
});
