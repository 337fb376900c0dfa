import { FaultQueue, type EmulatorFault } from './faults.js';

const OBO = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const CLIENT_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const CLIENT_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';

const throttle: EmulatorFault = { type: 'throttle', retryAfterSec: 5 };
const unavailable: EmulatorFault = { type: 'server-error', status: 503 };
const reset: EmulatorFault = { type: 'reset' };

describe('FaultQueue', () => {
  let faults: FaultQueue;

  beforeEach(() => {
    faults = new FaultQueue();
  });

  it('answers nothing when nothing is queued', () => {
    expect(faults.take({ endpoint: 'token' })).toBeUndefined();
  });

  it('uses faults in the order they were queued, each once by default', () => {
    faults.inject(throttle);
    faults.inject(unavailable);
    expect(faults.take({ endpoint: 'token' })).toBe(throttle);
    expect(faults.take({ endpoint: 'token' })).toBe(unavailable);
    expect(faults.take({ endpoint: 'token' })).toBeUndefined();
  });

  it('uses a fault `times` times before moving on: "two 503s, then a reset"', () => {
    faults.inject(unavailable, { times: 2 });
    faults.inject(reset);
    expect(faults.pending).toBe(3);
    expect(faults.take({ endpoint: 'token' })).toBe(unavailable);
    expect(faults.pending).toBe(2);
    expect(faults.take({ endpoint: 'token' })).toBe(unavailable);
    expect(faults.take({ endpoint: 'token' })).toBe(reset);
    expect(faults.pending).toBe(0);
    expect(faults.take({ endpoint: 'token' })).toBeUndefined();
  });

  it('hits the token endpoint unless another endpoint is named', () => {
    faults.inject(throttle);
    faults.inject(unavailable, { endpoint: 'jwks' });
    expect(faults.take({ endpoint: 'discovery' })).toBeUndefined();
    expect(faults.take({ endpoint: 'jwks' })).toBe(unavailable);
    expect(faults.take({ endpoint: 'jwks' })).toBeUndefined();
    expect(faults.take({ endpoint: 'token' })).toBe(throttle);
  });

  it('matches on grant type, leaving other requests alone', () => {
    faults.inject(throttle, { grantType: OBO });
    expect(faults.take({ endpoint: 'token', grantType: 'client_credentials' })).toBeUndefined();
    expect(faults.take({ endpoint: 'token' })).toBeUndefined();
    expect(faults.take({ endpoint: 'token', grantType: OBO })).toBe(throttle);
  });

  it('matches on client id, leaving other clients alone', () => {
    faults.inject(throttle, { clientId: CLIENT_A });
    expect(faults.take({ endpoint: 'token', clientId: CLIENT_B })).toBeUndefined();
    expect(faults.take({ endpoint: 'token', clientId: CLIENT_A, grantType: OBO })).toBe(throttle);
    expect(faults.pending).toBe(0);
  });

  it('lets a later matching fault through when an earlier one does not match', () => {
    faults.inject(throttle, { clientId: CLIENT_A });
    faults.inject(unavailable, { clientId: CLIENT_B });
    expect(faults.take({ endpoint: 'token', clientId: CLIENT_B })).toBe(unavailable);
    expect(faults.take({ endpoint: 'token', clientId: CLIENT_A })).toBe(throttle);
  });

  it('needs every condition of a match to hold', () => {
    faults.inject(throttle, { endpoint: 'token', grantType: OBO, clientId: CLIENT_A });
    expect(faults.take({ endpoint: 'token', grantType: OBO, clientId: CLIENT_B })).toBeUndefined();
    expect(faults.take({ endpoint: 'token', grantType: 'refresh_token', clientId: CLIENT_A })).toBeUndefined();
    expect(faults.take({ endpoint: 'token', grantType: OBO, clientId: CLIENT_A })).toBe(throttle);
  });

  it('clear() drops every queued fault', () => {
    faults.inject(throttle, { times: 3 });
    faults.inject(reset, { endpoint: 'discovery' });
    faults.clear();
    expect(faults.pending).toBe(0);
    expect(faults.take({ endpoint: 'token' })).toBeUndefined();
    expect(faults.take({ endpoint: 'discovery' })).toBeUndefined();
  });

  it('accepts a delay of zero', () => {
    faults.inject({ type: 'delay', ms: 0 });
    expect(faults.take({ endpoint: 'token' })).toEqual({ type: 'delay', ms: 0 });
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses times = %p and queues nothing', (times) => {
    expect(() => faults.inject(throttle, { times })).toThrow(RangeError);
    expect(faults.pending).toBe(0);
  });

  // setTimeout turns an infinite delay into 1 ms (with only a warning), so such a "delay" would not delay at all.
  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a delay of %p ms and queues nothing', (ms) => {
    expect(() => faults.inject({ type: 'delay', ms })).toThrow(RangeError);
    expect(faults.pending).toBe(0);
  });
});
