import { configurationMessage, type ConfigurationSubject } from '../errors/configuration-message.js';
import { OboConfigurationError } from '../errors/obo-errors.js';

/** Every option's name, as a table the compiler checks against the options type: `Record<keyof Options, true>`. */
export type OptionNameTable<Options> = Record<keyof Options, true>;

/** How a value that is not the expected kind is shown in a problem: numbers as themselves, anything else by its type. */
function shown(value: unknown): string {
  return typeof value === 'number' ? String(value) : value === null ? 'null' : typeof value;
}

/**
 * The one way option validators report: each check adds a problem (naming the option, never its value unless it is a
 * number or a known name) and returns the value to use, so a validator runs every check and `throwIfAny()` reports
 * them all in one `OboConfigurationError` naming what was misconfigured.
 */
export class Problems {
  private readonly found: string[] = [];

  constructor(readonly subject: ConfigurationSubject) {}

  get list(): readonly string[] {
    return this.found;
  }

  get any(): boolean {
    return this.found.length > 0;
  }

  add(problem: string): void {
    this.found.push(problem);
  }

  addAll(problems: readonly string[]): void {
    for (const problem of problems) this.add(problem);
  }

  /** Adds `unknown option 'x'` for each own key of `input` missing from `known` (a typo is never silently ignored). */
  unknownOptions(input: object, known: Readonly<Record<string, true>>): void {
    for (const name of Object.keys(input)) if (!Object.prototype.hasOwnProperty.call(known, name)) this.add(`unknown option '${name}'`);
  }

  /** An integer in `[min, max]` (no upper bound when `max` is omitted), or `fallback` when absent. */
  integerIn(value: unknown, name: string, range: { min: number; max?: number }, fallback: number): number {
    if (value === undefined) return fallback;
    const { min, max = Number.POSITIVE_INFINITY } = range;
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    const bounds = max === Number.POSITIVE_INFINITY ? `>= ${min}` : `from ${min} to ${max}`;
    this.add(`${name} must be an integer ${bounds}, got ${shown(value)}`);
    return fallback;
  }

  /** A boolean, or `fallback` when absent. */
  boolean(value: unknown, name: string, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value === 'boolean') return value;
    this.add(`${name} must be a boolean`);
    return fallback;
  }

  /** A non-empty string, or `fallback` when absent. */
  nonEmptyString(value: unknown, name: string, fallback: string): string {
    if (value === undefined) return fallback;
    if (typeof value === 'string' && value.length > 0) return value;
    this.add(`${name} must be a non-empty string`);
    return fallback;
  }

  /** One of `allowed` (compared exactly), or `fallback` when absent. */
  oneOf<Value extends string>(value: unknown, name: string, allowed: readonly Value[], fallback: Value): Value {
    if (value === undefined) return fallback;
    if ((allowed as readonly unknown[]).includes(value)) return value as Value;
    this.add(`${name} must be one of ${allowed.map((option) => `'${option}'`).join(', ')}`);
    return fallback;
  }

  /** A function, or `fallback` when absent. */
  func<Fn>(value: unknown, name: string, what: string, fallback: Fn): Fn {
    if (value === undefined) return fallback;
    if (typeof value === 'function') return value as Fn;
    this.add(`${name} must be ${what}`);
    return fallback;
  }

  /**
   * Throws one error listing every problem found, if there is any: an `OboConfigurationError` naming the subject, or,
   * for the test kit (whose callers made a set-up mistake, not a deployment one), a `TypeError` in the same words.
   */
  throwIfAny(as: 'configuration' | 'type' = 'configuration'): void {
    if (!this.any) return;
    if (as === 'type') throw new TypeError(configurationMessage(this.found, this.subject));
    throw new OboConfigurationError(this.found, this.subject);
  }
}
