// A value built on first use. The composition root keeps the heavier domain services behind
// one of these, so their modules are imported when their routes are first used, not at start.
export interface Lazy<T> {
  /** Builds it once (importing its module); every caller gets the same instance. */
  load(): Promise<T>;
  /** The instance once built, else undefined. */
  readonly value: T | undefined;
}

export function lazy<T>(build: () => Promise<T>): Lazy<T> {
  let value: T | undefined;
  let loading: Promise<T> | undefined;
  return {
    load: () =>
      (loading ??= build().then(
        (built) => (value = built),
        (error: unknown) => {
          loading = undefined; // a failed build (a broken module) is retried, not cached
          throw error;
        },
      )),
    get value() {
      return value;
    },
  };
}
