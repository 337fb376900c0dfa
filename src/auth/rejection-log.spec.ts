import { Logger } from '@nestjs/common';
import { tallySnapshot } from '../observability/tallies.js';
import { RejectionLog } from './rejection-log.js';

describe('RejectionLog', () => {
  let nowMs: number;
  let log: RejectionLog;
  let debug: jest.SpyInstance;

  beforeEach(() => {
    nowMs = 1_000_000;
    log = new RejectionLog(() => nowMs);
    debug = jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('logs the reason and expected versus actual at debug level', () => {
    log.report('audience', 'The access token is not for this API (aud).', { claim: 'aud', expected: ['a', 'api://a'], actual: 'b' });
    expect(debug).toHaveBeenCalledWith('Access token rejected (audience): The access token is not for this API (aud).; expected aud one of ["a","api://a"], got "b"');
  });

  it('logs each reason at most once a minute', () => {
    for (let index = 0; index < 10; index += 1) log.report('audience', 'not for this API', { claim: 'aud', expected: 'a', actual: `x${index}` });
    log.report('expired', 'expired');
    expect(debug).toHaveBeenCalledTimes(2);
    nowMs += 59_999;
    log.report('audience', 'not for this API');
    expect(debug).toHaveBeenCalledTimes(2);
    nowMs += 1;
    log.report('audience', 'not for this API');
    expect(debug).toHaveBeenCalledTimes(3);
  });

  it('escapes and shortens claim values', () => {
    log.report('issuer', 'wrong issuer', { claim: 'iss', expected: 'https://issuer', actual: `evil\r\nforged line ${'x'.repeat(500)}` });
    const line = debug.mock.calls[0]![0] as string;
    expect(line).not.toMatch(/[\r\n]/);
    expect(line.length).toBeLessThan(400);
  });

  it('counts every rejection by its reason (entra_obo.validation.rejections), also those it does not log', () => {
    const before = tallySnapshot().rejections;
    for (let index = 0; index < 3; index += 1) log.report('audience', 'not for this API', { claim: 'aud', expected: 'a', actual: `secret-looking-${index}` });
    log.report('expired', 'expired');
    const after = tallySnapshot().rejections;
    expect(debug).toHaveBeenCalledTimes(2);
    expect({ audience: (after.audience ?? 0) - (before.audience ?? 0), expired: (after.expired ?? 0) - (before.expired ?? 0) }).toEqual({ audience: 3, expired: 1 });
    // Only reason codes become keys, never what the token carried.
    expect(Object.keys(after).join(' ')).not.toContain('secret-looking');
  });
});
