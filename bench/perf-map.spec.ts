import { latestSymbols } from './perf-map.js';

describe('latestSymbols (perf map of a V8 process)', () => {
  it('keeps, for each address, only the line of the latest code made there', () => {
    const map = [
      '1000 100 JS:^parseSource lexer:85:22', // start-up code, freed later
      '2000 10 JS:*old',
      '1050 20 JS:*canActivateFn router-execution-context.js:201:31', // made later inside the first range
      '3000 5 JS:*untouched',
      'ff0 20 JS:*straddles the first range',
      '2000 10 JS:*new at the same address',
    ].join('\n');
    expect(latestSymbols(map)).toEqual(['ff0 20 JS:*straddles the first range', '1050 20 JS:*canActivateFn router-execution-context.js:201:31', '2000 10 JS:*new at the same address', '3000 5 JS:*untouched']);
  });

  it('keeps ranges that only touch, and skips lines that are not map lines', () => {
    expect(latestSymbols('10 10 A\nnot a line\n20 10 B\n\n')).toEqual(['10 10 A', '20 10 B']);
  });

  it('compares addresses as 64-bit numbers, not as strings', () => {
    expect(latestSymbols('7f0000000000 100 high\n9 1 low\n7f0000000080 10 newer')).toEqual(['9 1 low', '7f0000000080 10 newer']);
  });
});
