import { BoundedMap } from './bounded-map.js';

describe('BoundedMap', () => {
  it('drops the oldest key beyond its bound, counting a key set again as new', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2).set('a', 3).set('c', 4);
    expect([...map.entries()]).toEqual([
      ['a', 3],
      ['c', 4],
    ]);
    expect(map.size).toBe(2);
  });
});
