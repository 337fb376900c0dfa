import { Logger } from '@nestjs/common';
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
});
