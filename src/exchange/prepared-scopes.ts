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
  /** By the string itself (no key built per request: the decorator's string hashes once), and arrays by contents. */
  private readonly byString = new BoundedMap<string, PreparedScopes>(MAX_PREPARED);
  private readonly byContents = new BoundedMap<string, PreparedScopes>(MAX_PREPARED);

  constructor(
    private readonly flow: ScopeFlow,
    private readonly what: string,
  ) {}

  /** The prepared list, or a TypeError naming `what` and every rule the list breaks. */
  of(scopes: string | readonly string[]): PreparedScopes {
    if (typeof scopes === 'string') return this.byString.get(scopes) ?? this.prepare(scopes, this.byString, scopes);
    const contentsKey = contentsKeyOf(scopes);
    return (contentsKey === undefined ? undefined : this.byContents.get(contentsKey)) ?? this.prepare(scopes, this.byContents, contentsKey);
  }

  private prepare(scopes: string | readonly string[], memory: Map<string, PreparedScopes>, memoKey: string | undefined): PreparedScopes {
    const list = toScopeList(scopes);
    const problems = scopeListProblems(list, this.flow);
    if (problems.length > 0) throw new TypeError(`${this.what}: ${problems.join('; ')}`);
    const prepared: PreparedScopes = Object.freeze({ list: Object.freeze(list), key: scopeKeyOf(list) });
    if (memoKey !== undefined) memory.set(memoKey, prepared);
    return prepared;
  }
}

/** An array of strings is keyed by its contents (NUL-joined); anything else is not kept. */
function contentsKeyOf(scopes: readonly string[]): string | undefined {
  if (!Array.isArray(scopes) || !scopes.every((scope) => typeof scope === 'string' && !scope.includes('\u0000'))) return undefined;
  return scopes.join('\u0000');
}
