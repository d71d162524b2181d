/**
 * Names (item ids, event type names) by integer key, filled on demand. Keys are never reused, so
 * a cached name stays true for as long as the key exists; the cache is dropped whole once it holds
 * more than `maxEntries` names, to bound its memory on very large catalogues.
 */
export class NameCache {
  private names: (string | undefined)[] = [];
  private count = 0;

  constructor(private readonly maxEntries = 2_000_000) {}

  get(key: number): string | undefined {
    return this.names[key];
  }

  set(key: number, name: string): void {
    if (this.names[key] === undefined) this.count++;
    this.names[key] = name;
  }

  /** Drops every name once the cache holds more than its bound; call before filling it. */
  trim(): void {
    if (this.count > this.maxEntries) {
      this.names = [];
      this.count = 0;
    }
  }

  /** Keys in `column` of `rows` without a cached name, repeats included (trims the cache first). */
  missing(rows: readonly (readonly unknown[])[], column: number): readonly number[] {
    this.trim();
    const out: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      const key = rows[i][column] as number;
      if (this.names[key] === undefined) out.push(key);
    }
    return out;
  }
}
