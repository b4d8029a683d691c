// Preloaded (--import) into a server process that runs with --expose-gc and a large young
// generation: on 'begin' it collects and notes the heap, on 'end' it answers how much the
// heap grew and how many collections ran in between. With no collection in the window the
// growth is what the requests allocated. Plain JS so it needs no loader in the measured process.
import { PerformanceObserver } from 'node:perf_hooks';

let collections = 0;
new PerformanceObserver((list) => {
  collections += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });

let heapAtBegin = 0;
let collectionsAtBegin = 0;
process.channel?.unref();
process.on('message', (message) => {
  if (message === 'begin') {
    globalThis.gc();
    // Let the observer hear of that collection before the window opens.
    setTimeout(() => {
      collectionsAtBegin = collections;
      heapAtBegin = process.memoryUsage().heapUsed;
      process.send({ ready: true });
    }, 50);
  } else if (message === 'end') {
    const grown = process.memoryUsage().heapUsed - heapAtBegin;
    setTimeout(() => process.send({ grownBytes: grown, collections: collections - collectionsAtBegin }), 50);
  }
});
