import { requestCorrelationId, validCorrelationId } from './correlation-id.js';

const ID = '5f0c2a77-3b8e-4c52-9d3e-1a2b3c4d5e6f';
// The W3C example: https://www.w3.org/TR/trace-context/#examples-of-http-traceparent-headers
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TRACE_ID_AS_GUID = '4bf92f35-77b3-4da6-a3ce-929d0e0e4736';

describe('requestCorrelationId', () => {
  it.each(['client-request-id', 'x-ms-client-request-id', 'x-request-id'])('takes a GUID %s, lower-cased', (header) => {
    expect(requestCorrelationId({ [header]: ID.toUpperCase() })).toBe(ID);
  });

  it("takes a valid traceparent's trace id, written as a GUID", () => {
    expect(requestCorrelationId({ traceparent: TRACEPARENT })).toBe(TRACE_ID_AS_GUID);
  });

  it('prefers client-request-id over the others, and the first of repeated values', () => {
    const other = '11111111-2222-4333-8444-555555555555';
    expect(requestCorrelationId({ traceparent: TRACEPARENT, 'x-request-id': other, 'client-request-id': ID })).toBe(ID);
    expect(requestCorrelationId({ 'x-request-id': [other, ID] })).toBe(other);
  });

  it('skips a header that is not a GUID and takes the next valid one', () => {
    expect(requestCorrelationId({ 'client-request-id': 'req-42', traceparent: TRACEPARENT })).toBe(TRACE_ID_AS_GUID);
  });

  it.each([
    ['a non-GUID request id', { 'x-request-id': 'abc123' }],
    ['a GUID with text around it', { 'x-request-id': `${ID}; drop table` }],
    ['an all-zero trace id', { traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` }],
    ['an all-zero parent id', { traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01` }],
    ['version ff', { traceparent: 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }],
    ['a short trace id', { traceparent: '00-4bf92f3577b34da6-00f067aa0ba902b7-01' }],
    ['no headers of interest', { authorization: 'Bearer x' }],
  ])('gives nothing for %s', (_name, headers) => {
    expect(requestCorrelationId(headers)).toBeUndefined();
  });

  it('gives nothing without headers', () => {
    expect(requestCorrelationId(undefined)).toBeUndefined();
  });
});

describe('requestCorrelationId with configured headers (correlationHeaders)', () => {
  it('reads only the configured headers, in their order', () => {
    const headers = { 'x-request-id': ID, 'x-correlation-id': '11111111-2222-4333-8444-555555555555', traceparent: TRACEPARENT };
    expect(requestCorrelationId(headers, ['x-correlation-id', 'x-request-id'])).toBe('11111111-2222-4333-8444-555555555555');
    expect(requestCorrelationId(headers, ['traceparent'])).toBe(TRACE_ID_AS_GUID);
    expect(requestCorrelationId(headers, [])).toBeUndefined();
  });
});

describe('validCorrelationId', () => {
  it('keeps a GUID (lower-cased) and drops anything else', () => {
    expect(validCorrelationId(ID.toUpperCase())).toBe(ID);
    expect(validCorrelationId('not-a-guid')).toBeUndefined();
    expect(validCorrelationId(42)).toBeUndefined();
  });
});
