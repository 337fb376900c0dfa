import { OboConfigurationError } from '../errors/obo-errors.js';
import { resolveOboOptions } from './resolve-options.js';

const BASE = { tenantId: '11111111-1111-1111-1111-111111111111', clientId: '22222222-2222-2222-2222-222222222222' };

describe('correlationHeaders option', () => {
  it('defaults to client-request-id, x-ms-client-request-id, x-request-id, traceparent', () => {
    expect(resolveOboOptions(BASE).correlationHeaders).toEqual(['client-request-id', 'x-ms-client-request-id', 'x-request-id', 'traceparent']);
  });

  it('lower-cases and de-duplicates configured names; [] takes no id from requests', () => {
    expect(resolveOboOptions({ ...BASE, correlationHeaders: ['X-Correlation-ID', 'x-correlation-id', 'traceparent'] }).correlationHeaders).toEqual(['x-correlation-id', 'traceparent']);
    expect(resolveOboOptions({ ...BASE, correlationHeaders: [] }).correlationHeaders).toEqual([]);
  });

  it.each([['a string', 'x-request-id'], ['a name with a space', ['x request id']], ['a non-string', [42]]])('refuses %s', (_name, value) => {
    let problems: readonly string[] = [];
    try {
      resolveOboOptions({ ...BASE, correlationHeaders: value } as never);
    } catch (error) {
      if (!(error instanceof OboConfigurationError)) throw error;
      problems = error.problems;
    }
    expect(problems).toEqual(["correlationHeaders must be an array of header names, e.g. ['x-request-id', 'traceparent']"]);
  });
});
