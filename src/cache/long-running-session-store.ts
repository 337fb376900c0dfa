import { BoundedMap } from '../util/bounded-map.js';

/**
 * One long-running On-Behalf-Of session: the refresh token Entra issued for the user's exchange, and whose it is. The
 * refresh token is a secret (it gets tokens for the user for as long as Entra lets it live): it is never logged, and
 * a store that others can read (Redis) keeps it encrypted.
 */
export interface LongRunningSession {
  refreshToken: string;
  tenantId: string;
  userObjectId: string;
}

/** How long an unused session lives, and how many are kept (apart from the token cache's entries). */
export interface LongRunningSessionSettings {
  /** A session not refreshed for this long is gone; each refresh (and the start) restarts the count. */
  idleTimeoutSec: number;
  /** Most sessions kept; beyond it the least recently used session goes. Never shared with the token LRU. */
  maxSessions: number;
}

/**
 * The session store port, beside the token cache's: its own bound, so no amount of token traffic ever evicts a
 * session (a job's only way back to the user's authority), and no number of sessions ever evicts a token.
 */
export abstract class LongRunningSessionStore {
  /** The session, or undefined when it is unknown, ended, idle past the limit or evicted. Counts as a use (LRU). */
  abstract get(sessionKey: string): Promise<LongRunningSession | undefined>;

  /** Stores a new session, restarting its idle limit. */
  abstract start(sessionKey: string, session: LongRunningSession): Promise<void>;

  /**
   * Replaces a session's refresh token after a refresh and restarts its idle limit, only while the session still
   * exists: a session ended (or its user removed) during the refresh stays ended.
   */
  abstract update(sessionKey: string, session: LongRunningSession): Promise<void>;

  abstract delete(sessionKey: string): Promise<void>;

  /** Ends every session of one user (ids compare case-insensitively); rejects when it cannot confirm it. */
  abstract removeUser(tenantId: string, userObjectId: string): Promise<void>;
}

/**
 * A token cache that keeps long-running sessions where it keeps tokens (the Redis cache: every instance can continue
 * a session another one started). The module asks the configured cache for its store; other caches get the
 * in-memory one.
 */
export interface LongRunningSessionStoreProvider {
  longRunningSessionStore(settings: LongRunningSessionSettings): LongRunningSessionStore;
}

export function providesSessionStore(cache: unknown): cache is LongRunningSessionStoreProvider {
  return typeof (cache as Partial<LongRunningSessionStoreProvider> | undefined)?.longRunningSessionStore === 'function';
}

interface Entry {
  session: LongRunningSession;
  idleUntilMs: number;
  userTag: string;
}

function userTag(tenantId: string, userObjectId: string): string {
  return `${tenantId.toLowerCase()}|${userObjectId.toLowerCase()}`;
}

/**
 * Sessions in process memory: a bounded LRU of its own (a read moves a session to the end), with a per-user index so
 * `removeUser` touches only that user's sessions. Not encrypted: the key would live in the same process, beside it.
 */
export class InMemoryLongRunningSessionStore extends LongRunningSessionStore {
  private readonly sessions: BoundedMap<string, Entry>;
  private readonly keysByUser = new Map<string, Set<string>>();

  constructor(
    private readonly settings: LongRunningSessionSettings,
    private readonly nowMs: () => number = Date.now,
  ) {
    super();
    this.sessions = new BoundedMap(settings.maxSessions, (key, entry) => this.unindex(key, entry));
  }

  get size(): number {
    return this.sessions.size;
  }

  async get(sessionKey: string): Promise<LongRunningSession | undefined> {
    const entry = this.sessions.get(sessionKey);
    if (!entry) return undefined;
    if (entry.idleUntilMs <= this.nowMs()) {
      this.remove(sessionKey, entry);
      return undefined;
    }
    this.sessions.set(sessionKey, entry);
    return { ...entry.session };
  }

  async start(sessionKey: string, session: LongRunningSession): Promise<void> {
    this.put(sessionKey, session);
  }

  async update(sessionKey: string, session: LongRunningSession): Promise<void> {
    const entry = this.sessions.get(sessionKey);
    if (entry && entry.idleUntilMs > this.nowMs()) this.put(sessionKey, session);
  }

  async delete(sessionKey: string): Promise<void> {
    const entry = this.sessions.get(sessionKey);
    if (entry) this.remove(sessionKey, entry);
  }

  async removeUser(tenantId: string, userObjectId: string): Promise<void> {
    const tag = userTag(tenantId, userObjectId);
    for (const key of this.keysByUser.get(tag) ?? []) this.sessions.delete(key);
    this.keysByUser.delete(tag);
  }

  private put(sessionKey: string, session: LongRunningSession): void {
    const existing = this.sessions.get(sessionKey);
    if (existing) this.remove(sessionKey, existing);
    const tag = userTag(session.tenantId, session.userObjectId);
    this.sessions.set(sessionKey, { session: { ...session }, idleUntilMs: this.nowMs() + this.settings.idleTimeoutSec * 1000, userTag: tag });
    let keys = this.keysByUser.get(tag);
    if (!keys) this.keysByUser.set(tag, (keys = new Set()));
    keys.add(sessionKey);
  }

  private remove(sessionKey: string, entry: Entry): void {
    this.sessions.delete(sessionKey);
    this.unindex(sessionKey, entry);
  }

  private unindex(sessionKey: string, entry: Entry): void {
    const keys = this.keysByUser.get(entry.userTag);
    keys?.delete(sessionKey);
    if (keys?.size === 0) this.keysByUser.delete(entry.userTag);
  }
}
