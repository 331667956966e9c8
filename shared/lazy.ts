/**
 * The one lazy loader of the house: a value made on first use, once, by an async factory (typically a dynamic
 * `import()` of an AWS SDK client that most requests never need, so that a function's cold start does not evaluate
 * it). A failed load is forgotten, so the next use tries again.
 */
export function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}
