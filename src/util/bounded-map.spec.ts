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

  it('tells onEvict of each key dropped for room, and of no key deleted or set again', () => {
    const evicted: [string, number][] = [];
    const map = new BoundedMap<string, number>(2, (key, value) => evicted.push([key, value]));
    map.set('a', 1).set('b', 2).set('b', 3);
    map.delete('a');
    map.set('c', 4).set('d', 5);
    expect(evicted).toEqual([['b', 3]]);
    expect([...map.keys()]).toEqual(['c', 'd']);
  });
});
