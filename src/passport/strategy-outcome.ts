import type { EntraPrincipal } from '../auth/entra-principal.js';
import type { OboError } from '../errors/obo-errors.js';

/**
 * What the strategy found, kept on the request where `EntraAuthGuard` reads it: passport hands a guard only the
 * challenge text and a status, and `validate()` may turn the principal into anything.
 */
export type StrategyOutcome = { principal: EntraPrincipal } | { failure: OboError };

const OUTCOME = Symbol('nestjs-entra-obo.strategyOutcome');

export function recordOutcome(request: object, outcome: StrategyOutcome): void {
  Object.defineProperty(request, OUTCOME, { value: outcome, enumerable: false, configurable: true, writable: true });
}

export function outcomeOf(request: object): StrategyOutcome | undefined {
  return (request as Record<symbol, StrategyOutcome | undefined>)[OUTCOME];
}
