/**
 * A `Map` that holds at most `maxEntries`: setting a new key beyond that drops the oldest one (insertion order; a key
 * set again counts as new, so setting a key again on each read makes it least-recently-used). For memories that must
 * not grow with the number of callers or tenants. `onEvict` hears of each key dropped for room (not of `delete`).
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(
    readonly maxEntries: number,
    private readonly onEvict?: (key: K, value: V) => void,
  ) {
    super();
  }

  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    if (this.size > this.maxEntries) {
      const [oldestKey, oldestValue] = this.entries().next().value!;
      super.delete(oldestKey);
      this.onEvict?.(oldestKey, oldestValue);
    }
    return this;
  }
}
