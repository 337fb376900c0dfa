import { OboConfigurationError } from '../errors/obo-errors.js';
import { Problems, type OptionNameTable } from './problems.js';

interface SampleOptions {
  size?: number;
  enabled?: boolean;
  name?: string;
  mode?: 'fast' | 'safe';
}
const NAMES: OptionNameTable<SampleOptions> = { size: true, enabled: true, name: true, mode: true };

function thrownBy(run: () => void): OboConfigurationError {
  try {
    run();
  } catch (error) {
    if (error instanceof OboConfigurationError) return error;
    throw error;
  }
  throw new Error('expected an OboConfigurationError');
}

describe('Problems', () => {
  it('returns the value when it is valid, and the fallback when it is absent, adding no problem', () => {
    const problems = new Problems('OboModule options');
    expect(problems.integerIn(5, 'size', { min: 1, max: 10 }, 3)).toBe(5);
    expect(problems.integerIn(undefined, 'size', { min: 1, max: 10 }, 3)).toBe(3);
    expect(problems.boolean(false, 'enabled', true)).toBe(false);
    expect(problems.boolean(undefined, 'enabled', true)).toBe(true);
    expect(problems.nonEmptyString('x', 'name', 'd')).toBe('x');
    expect(problems.oneOf('safe', 'mode', ['fast', 'safe'], 'fast')).toBe('safe');
    const fn = () => 1;
    expect(problems.func(fn, 'fn', 'a function', undefined)).toBe(fn);
    problems.unknownOptions({ size: 1, mode: 'fast' }, NAMES);
    expect(problems.any).toBe(false);
    expect(() => problems.throwIfAny()).not.toThrow();
  });

  it('collects every problem, with the fallback in place of each bad value, and throws them all at once', () => {
    const problems = new Problems('InMemoryTokenCache options');
    problems.unknownOptions({ size: 1, colour: 'blue', sise: 2 }, NAMES);
    expect(problems.integerIn(11, 'size', { min: 1, max: 10 }, 3)).toBe(3);
    expect(problems.integerIn(1.5, 'size', { min: 1 }, 3)).toBe(3);
    expect(problems.integerIn('7', 'size', { min: 1 }, 3)).toBe(3);
    expect(problems.integerIn(null, 'size', { min: 1 }, 3)).toBe(3);
    expect(problems.boolean('yes', 'enabled', true)).toBe(true);
    expect(problems.nonEmptyString('', 'name', 'd')).toBe('d');
    expect(problems.oneOf('slow', 'mode', ['fast', 'safe'], 'fast')).toBe('fast');
    expect(problems.func(42, 'fetch', 'a fetch function', undefined)).toBeUndefined();
    expect(problems.list).toEqual([
      "unknown option 'colour'",
      "unknown option 'sise'",
      'size must be an integer from 1 to 10, got 11',
      'size must be an integer >= 1, got 1.5',
      'size must be an integer >= 1, got string',
      'size must be an integer >= 1, got null',
      'enabled must be a boolean',
      'name must be a non-empty string',
      "mode must be one of 'fast', 'safe'",
      'fetch must be a fetch function',
    ]);
    const error = thrownBy(() => problems.throwIfAny());
    expect(error.subject).toBe('InMemoryTokenCache options');
    expect(error.problems).toEqual(problems.list);
    expect(error.message).toBe(`Invalid InMemoryTokenCache options:\n- ${problems.list.join('\n- ')}`);
  });

  it('never shows a string value it refuses (it could be a secret), only its type', () => {
    const problems = new Problems('RedisTokenCache options');
    problems.integerIn('s3cret-value', 'size', { min: 1 }, 3);
    problems.boolean('s3cret-value', 'enabled', true);
    problems.oneOf('s3cret-value', 'mode', ['fast'], 'fast');
    expect(problems.list.join('\n')).not.toContain('s3cret');
  });

  it('does not take inherited properties for known option names', () => {
    const problems = new Problems('OboModule options');
    problems.unknownOptions({ toString: 1, constructor: 2 }, NAMES);
    expect(problems.list).toEqual(["unknown option 'toString'", "unknown option 'constructor'"]);
  });
});
