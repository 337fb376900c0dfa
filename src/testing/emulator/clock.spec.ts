import { EmulatorClock } from './clock.js';

// The clock reads Date.now(); faking it makes every reading exact instead of "roughly now".
const START_MS = Date.UTC(2030, 0, 1, 12, 0, 0, 250);

describe('EmulatorClock', () => {
  let clock: EmulatorClock;

  beforeEach(() => {
    jest.useFakeTimers({ now: START_MS });
    clock = new EmulatorClock();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('follows the machine clock until told otherwise', () => {
    expect(clock.nowMs()).toBe(START_MS);
    jest.setSystemTime(START_MS + 1_500);
    expect(clock.nowMs()).toBe(START_MS + 1_500);
  });

  it('reports seconds rounded down', () => {
    expect(clock.nowSec()).toBe(Math.floor(START_MS / 1000));
    clock.advanceMs(749);
    expect(clock.nowSec()).toBe(Math.floor(START_MS / 1000));
    clock.advanceMs(1);
    expect(clock.nowSec()).toBe(Math.floor(START_MS / 1000) + 1);
  });

  it('moves forward and back with advanceMs, and keeps flowing with the machine clock', () => {
    clock.advanceMs(10_000);
    expect(clock.nowMs()).toBe(START_MS + 10_000);
    clock.advanceMs(-4_000);
    expect(clock.nowMs()).toBe(START_MS + 6_000);
    jest.setSystemTime(START_MS + 1_000);
    expect(clock.nowMs()).toBe(START_MS + 7_000);
  });

  it('advanceSec moves by whole and fractional seconds', () => {
    clock.advanceSec(90);
    expect(clock.nowMs()).toBe(START_MS + 90_000);
    clock.advanceSec(0.5);
    expect(clock.nowMs()).toBe(START_MS + 90_500);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('rejects %p and leaves the reading unchanged', (value) => {
    clock.advanceMs(1_000);
    expect(() => clock.advanceMs(value)).toThrow(RangeError);
    expect(() => clock.advanceSec(value)).toThrow(RangeError);
    expect(clock.nowMs()).toBe(START_MS + 1_000);
  });

  it('freeze() stops the clock at its current reading while the machine clock moves on', () => {
    clock.advanceMs(5_000);
    clock.freeze();
    jest.setSystemTime(START_MS + 60_000);
    expect(clock.nowMs()).toBe(START_MS + 5_000);
  });

  it('freeze(at) stops the clock at the given instant', () => {
    const at = new Date(Date.UTC(2031, 5, 15, 8, 30, 0));
    clock.advanceMs(123);
    clock.freeze(at);
    jest.setSystemTime(START_MS + 60_000);
    expect(clock.nowMs()).toBe(at.getTime());
  });

  it('a frozen clock still moves when advanced', () => {
    clock.freeze();
    clock.advanceSec(30);
    expect(clock.nowMs()).toBe(START_MS + 30_000);
    jest.setSystemTime(START_MS + 1_000);
    expect(clock.nowMs()).toBe(START_MS + 30_000);
  });

  it('resume() lets time flow again from the frozen reading', () => {
    clock.freeze();
    jest.setSystemTime(START_MS + 60_000);
    clock.resume();
    expect(clock.nowMs()).toBe(START_MS);
    jest.setSystemTime(START_MS + 62_000);
    expect(clock.nowMs()).toBe(START_MS + 2_000);
  });

  // A test that freezes, advances past an expiry and resumes must not see time jump back before the expiry.
  it('resume() keeps what the clock was advanced by while frozen', () => {
    clock.freeze();
    clock.advanceSec(30);
    clock.resume();
    expect(clock.nowMs()).toBe(START_MS + 30_000);
  });

  it('resume() on a running clock changes nothing', () => {
    clock.advanceMs(2_000);
    clock.resume();
    expect(clock.nowMs()).toBe(START_MS + 2_000);
  });

  it('reset() returns to the machine clock, unfrozen', () => {
    clock.advanceSec(3_600);
    clock.freeze();
    clock.reset();
    expect(clock.nowMs()).toBe(START_MS);
    jest.setSystemTime(START_MS + 500);
    expect(clock.nowMs()).toBe(START_MS + 500);
  });

  // An invalid Date would make every later reading NaN, and every token's exp with it.
  it('freeze() rejects an invalid date and leaves the reading unchanged', () => {
    expect(() => clock.freeze(new Date(Number.NaN))).toThrow(RangeError);
    expect(clock.nowMs()).toBe(START_MS);
  });
});
