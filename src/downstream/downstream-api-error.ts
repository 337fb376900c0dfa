/** The most characters of a downstream answer's body kept on a `DownstreamApiError`. */
export const BODY_EXCERPT_LENGTH = 500;

/** Bearer tokens and JWTs are cut out of an excerpt: a downstream API may echo what it was sent. */
const TOKEN_LIKE = /\b(Bearer\s+)?[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g;

/** A body excerpt that is safe to log: at most `BODY_EXCERPT_LENGTH` characters, tokens (and `token`, when given) removed. */
export function bodyExcerpt(body: string, token?: string): string {
  let text = body;
  if (token) text = text.split(token).join('[token]');
  return text.replace(TOKEN_LIKE, '[token]').slice(0, BODY_EXCERPT_LENGTH);
}

/**
 * A downstream API answered with a non-2xx status, did not answer in time, or could not be reached. Carries the API's
 * name, its status (0 without an answer) and an excerpt of its body without any token; the message names only the API
 * and the status. Not an `HttpException`: what a downstream failure means for this API's own caller is the handler's
 * call (unhandled, Nest answers 500 "Internal server error", with nothing of the downstream answer).
 */
export class DownstreamApiError extends Error {
  constructor(
    readonly apiName: string,
    /** The downstream answer's status; 0 when there was none (timeout, network error). */
    readonly status: number,
    /** At most 500 characters of the downstream body, tokens removed; empty without an answer. */
    readonly bodyExcerpt: string,
    readonly reason: 'status' | 'timeout' | 'network',
    options?: { cause?: unknown },
  ) {
    const what = reason === 'status' ? `answered ${status}` : reason === 'timeout' ? 'did not answer in time' : 'could not be reached';
    super(`The downstream API '${apiName}' ${what}.`, options);
    this.name = 'DownstreamApiError';
  }
}
