// A long review can be silent for minutes (the model thinks, a command runs); proxies and
// browsers drop a quiet connection, so the stream says `keepalive` when nothing else came
// for a while. The source is never read ahead: backpressure stays the client's.

export async function* withKeepalive<T, K>(source: AsyncIterable<T>, intervalMs: number, keepalive: () => K): AsyncGenerator<T | K> {
  const iterator = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | null = null;
  let finished = false;
  try {
    for (;;) {
      pending ??= iterator.next();
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<'tick'>((resolve) => (timer = setTimeout(() => resolve('tick'), intervalMs)));
      const next = await Promise.race([pending, tick]);
      clearTimeout(timer);
      if (next === 'tick') {
        yield keepalive();
        continue;
      }
      pending = null;
      if (next.done) {
        finished = true;
        return;
      }
      yield next.value;
    }
  } finally {
    // A reader that left while the source was waiting: the source ends through its own
    // abort signal; asking it to return now would wait for that wait to end.
    if (!finished) {
      if (pending) void pending.then(() => iterator.return?.(), () => undefined);
      else await iterator.return?.();
    }
  }
}
