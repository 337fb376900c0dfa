/**
 * A `Map` that holds at most `maxEntries`: setting a new key beyond that drops the oldest one (insertion order; a key
 * set again counts as new). For memories that must not grow with the number of callers or tenants.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(readonly maxEntries: number) {
    super();
  }

  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    if (this.size > this.maxEntries) super.delete(this.keys().next().value!);
    return this;
  }
}
