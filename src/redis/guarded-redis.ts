import { Logger } from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { CircuitBreaker, type BreakerState } from './circuit-breaker.js';

const FIRST_CONNECTION_WAIT_MS = 2000;

class RedisTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`Redis did not answer within ${timeoutMs} ms`);
  }
}

/** How a Redis operation ended: its result, or a failure that either never reached Redis or may have. */
export type Attempt<T> = { ok: true; result: T } | { ok: false; sent: boolean };

export interface GuardedRedisSettings {
  operationTimeoutMs: number;
  breakerFailureThreshold: number;
  breakerOpenDurationMs: number;
}

/**
 * The cache's Redis connection and the rules every operation runs under: a timeout, a circuit breaker that skips Redis
 * while it is down (logging once per outage), and a longer wait for the first connection. Redis being slow or down
 * thus degrades the cache to a miss, never to an error or a hanging request.
 */
export class GuardedRedis {
  readonly client: Redis | Cluster;
  private readonly logger = new Logger('OboModule');
  private readonly ownsClient: boolean;
  private readonly breaker: CircuitBreaker;
  readonly counters = { errors: 0, skipped: 0 };
  /**
   * The first connection gets longer than one operation's timeout: operations timing out while it is being set up
   * would make every instance of a cold deployment skip the cross-instance lock at once.
   */
  private connectedOnce = false;
  private firstConnection: Promise<void> = Promise.resolve();

  constructor(
    connection: { client?: Redis | Cluster; connection?: string | RedisOptions },
    private readonly settings: GuardedRedisSettings,
  ) {
    this.breaker = new CircuitBreaker({
      failureThreshold: settings.breakerFailureThreshold,
      openDurationMs: settings.breakerOpenDurationMs,
      nowMs: () => Date.now(),
      onAvailabilityChange: (available) => {
        if (available) this.logger.log('Redis token cache available again');
        else this.logger.warn(`Redis token cache unavailable: serving from memory and Entra, probing Redis every ${settings.breakerOpenDurationMs} ms`);
      },
    });
    this.ownsClient = connection.client === undefined;
    // Commands issued before the connection is up wait for it (bounded by the operation timeout); during an outage the
    // breaker stops issuing them, so ioredis's offline queue cannot grow.
    // `disconnectTimeout`: on disconnect ioredis ends its socket and keeps a timer until the socket closes (2 s by
    // default); a socket whose connection was refused never closes again, so that timer alone would hold the process
    // 2 s after close(). One operation's timeout is as long as a closing cache waits for anything.
    const defaults = { maxRetriesPerRequest: 1, disconnectTimeout: settings.operationTimeoutMs };
    this.client =
      connection.client ??
      (typeof connection.connection === 'string' ? new Redis(connection.connection, defaults) : new Redis({ ...defaults, ...connection.connection }));
    this.client.on('error', () => undefined);
    if (this.client.status === 'ready') this.connectedOnce = true;
    else {
      this.firstConnection = new Promise<void>((resolve) => {
        const done = () => {
          this.connectedOnce = true;
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(done, FIRST_CONNECTION_WAIT_MS);
        timer.unref();
        this.client.once('ready', done);
      });
    }
  }

  get breakerState(): BreakerState {
    return this.breaker.currentState;
  }

  /** A second connection to the same server, for pub/sub (a subscribed connection takes no other commands). */
  duplicate(): Redis | Cluster {
    // Narrowed per class: the two `duplicate` signatures do not unify on the union. ioredis's autoResubscribe is off:
    // its SUBSCRIBE has no rejection handler, so a close() right after a reconnect would surface as an unhandled
    // "Connection is closed" rejection; the subscriber renews its subscription itself.
    return this.client instanceof Cluster ? this.client.duplicate() : this.client.duplicate({ autoResubscribe: false });
  }

  /** Runs one operation under the breaker and the operation timeout; a failure is counted and answered with undefined. */
  async run<T>(operation: (client: Redis | Cluster) => Promise<T>): Promise<T | undefined> {
    const outcome = await this.attempt(operation);
    return outcome.ok ? outcome.result : undefined;
  }

  /**
   * One Redis operation, skipped while the breaker is open unless `bypassBreaker`, and bounded by the operation
   * timeout (after the first connection is up), or by `timeoutMs` including that wait. Says whether a failed
   * operation may have reached Redis.
   */
  async attempt<T>(operation: (client: Redis | Cluster) => Promise<T>, options: { timeoutMs?: number; bypassBreaker?: boolean } = {}): Promise<Attempt<T>> {
    if (!options.bypassBreaker && !this.breaker.allows()) {
      this.counters.skipped += 1;
      return { ok: false, sent: false };
    }
    if (!this.connectedOnce && options.timeoutMs === undefined) await this.firstConnection;
    const timeoutMs = options.timeoutMs ?? this.settings.operationTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisTimeoutError(timeoutMs)), timeoutMs);
    });
    try {
      const result = await Promise.race([
        (async () => {
          if (!this.connectedOnce) await this.firstConnection;
          return operation(this.client);
        })(),
        timeout,
      ]);
      this.breaker.recordSuccess();
      return { ok: true, result };
    } catch {
      this.counters.errors += 1;
      this.breaker.recordFailure();
      return { ok: false, sent: true };
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /** Closes the client when the cache opened it; a client the application gave stays the application's. */
  close(): void {
    if (this.ownsClient) this.client.disconnect();
  }
}
