import { scopeKeyOf } from '../cache/cache-key.js';
import { scopeListProblems, toScopeList, type ScopeFlow } from '../scopes/downstream-scopes.js';
import { BoundedMap } from '../util/bounded-map.js';

/** A scope list checked for one flow, with its cache-key part: what every request for those scopes reuses. */
export interface PreparedScopes {
  readonly list: readonly string[];
  readonly key: string;
}

/** Distinct scope lists an app asks for are few (one per decorator or call site); more than this are forgotten. */
const MAX_PREPARED = 512;

/**
 * Checks and normalises each distinct scope list once, not per request: `@DownstreamToken('api://x/Read')` hands the
 * same string every time, so the parse, the rules and the normalised key are looked up by that string. An array is
 * remembered by its contents, never by its identity (the caller may change it between calls).
 */
export class ScopePreparation {
  private readonly prepared = new BoundedMap<string, PreparedScopes>(MAX_PREPARED);

  constructor(
    private readonly flow: ScopeFlow,
    private readonly what: string,
  ) {}

  /** The prepared list, or a TypeError naming `what` and every rule the list breaks. */
  of(scopes: string | readonly string[]): PreparedScopes {
    const memoKey = memoKeyOf(scopes);
    const known = memoKey === undefined ? undefined : this.prepared.get(memoKey);
    if (known) return known;
    const list = toScopeList(scopes);
    const problems = scopeListProblems(list, this.flow);
    if (problems.length > 0) throw new TypeError(`${this.what}: ${problems.join('; ')}`);
    const prepared: PreparedScopes = Object.freeze({ list: Object.freeze(list), key: scopeKeyOf(list) });
    if (memoKey !== undefined) this.prepared.set(memoKey, prepared);
    return prepared;
  }
}

/** A string is its own key; an array of strings is keyed by its contents (NUL-joined); anything else is not kept. */
function memoKeyOf(scopes: string | readonly string[]): string | undefined {
  if (typeof scopes === 'string') return `s${scopes}`;
  if (!Array.isArray(scopes) || !scopes.every((scope) => typeof scope === 'string' && !scope.includes('\u0000'))) return undefined;
  return `a${scopes.join('\u0000')}`;
}
