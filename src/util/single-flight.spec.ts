import { SingleFlight } from './single-flight.js';

/** A promise settled from outside, so the test decides when each execution finishes. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (reason: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  return { promise, resolve, reject };
}

describe('SingleFlight', () => {
  let flights: SingleFlight<string>;

  beforeEach(() => {
    flights = new SingleFlight<string>();
  });

  it('runs concurrent calls with the same key once and gives every caller the result', async () => {
    const pending = deferred<string>();
    const execute = jest.fn(() => pending.promise);
    const calls = [flights.run('k', execute), flights.run('k', execute), flights.run('k', execute)];
    expect(execute).toHaveBeenCalledTimes(1);
    expect(flights.size).toBe(1);
    pending.resolve('token');
    await expect(Promise.all(calls)).resolves.toEqual(['token', 'token', 'token']);
  });

  it('runs calls with different keys separately', async () => {
    const first = jest.fn(async () => 'first');
    const second = jest.fn(async () => 'second');
    const results = await Promise.all([flights.run('a', first), flights.run('b', second)]);
    expect(results).toEqual(['first', 'second']);
    expect(first).toHaveBeenCalledTimes(1);
    expect(second).toHaveBeenCalledTimes(1);
  });

  it('delivers a rejection to every waiter, then forgets it', async () => {
    const pending = deferred<string>();
    const failure = new Error('exchange failed');
    const waiters = [flights.run('k', () => pending.promise), flights.run('k', () => Promise.resolve('never used'))];
    pending.reject(failure);
    for (const waiter of waiters) await expect(waiter).rejects.toBe(failure);
    expect(flights.size).toBe(0);

    const retry = jest.fn(async () => 'recovered');
    await expect(flights.run('k', retry)).resolves.toBe('recovered');
    expect(retry).toHaveBeenCalledTimes(1);
  });

  it('frees the key once the execution settles, so a later call runs again', async () => {
    let executions = 0;
    const execute = async () => `result-${++executions}`;
    await expect(flights.run('k', execute)).resolves.toBe('result-1');
    expect(flights.size).toBe(0);
    await expect(flights.run('k', execute)).resolves.toBe('result-2');
    expect(executions).toBe(2);
  });

  it('joins a call made while the first is still running, but not one made after it settled', async () => {
    const firstRun = deferred<string>();
    const execute = jest.fn<Promise<string>, []>().mockReturnValueOnce(firstRun.promise).mockResolvedValueOnce('second');
    const early = flights.run('k', execute);
    const joined = flights.run('k', execute);
    firstRun.resolve('first');
    await expect(early).resolves.toBe('first');
    await expect(joined).resolves.toBe('first');
    await expect(flights.run('k', execute)).resolves.toBe('second');
    expect(execute).toHaveBeenCalledTimes(2);
  });

  it('settles once nothing runs, even what started while it waited and what failed', async () => {
    const flights = new SingleFlight<void>();
    let finishSecond!: () => void;
    const first = flights.run('a', async () => {
      await Promise.resolve();
      void flights.run('b', () => new Promise<void>((resolve) => (finishSecond = resolve)));
      throw new Error('first failed');
    });
    first.catch(() => undefined);
    expect(flights.size).toBe(1);
    let settled = false;
    const waiting = flights.settled().then(() => (settled = true));
    await first.catch(() => undefined);
    await Promise.resolve();
    expect(flights.size).toBe(1); // 'b', started while settled() waited for 'a'
    expect(settled).toBe(false);
    finishSecond();
    await waiting;
    expect(flights.size).toBe(0);
  });
});
