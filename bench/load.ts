// A small closed-loop HTTP load generator: N keep-alive connections, each sending its
// next request as soon as the last answer arrives (or, with `thinkMs`, after a pause of
// 0..2×thinkMs, as a browser tab does between calls), for a fixed time. Run in its own
// process so that the client's work does not land on the server's event loop. bench/gateway.ts
// uses wrk with the same model when it is installed (bench/wrk-report.lua), this otherwise.
import { Agent, request } from 'node:http';

export interface LoadOptions {
  port: number;
  path: string;
  headers: Record<string, string>;
  connections: number;
  durationMs: number;
  /** Stop after this many requests in all (for allocation windows), whatever the time. */
  maxRequests?: number;
  /** Each connection's mean pause between an answer and its next request (uniform, 0..2×). */
  thinkMs?: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * `connections` keep-alive connections of their own, or those of `shared` (kept open for the
 * caller's next run: the allocation probe measures one warm connection, not a new one per window).
 */
export async function runLoad(options: LoadOptions, shared?: Agent): Promise<LoadResult> {
  const agent = shared ?? new Agent({ keepAlive: true, maxSockets: options.connections });
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + options.durationMs;
  const once = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const req = request({ host: '127.0.0.1', port: options.port, path: options.path, headers: options.headers, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - started);
          else errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end();
    });
  let sent = 0;
  const more = () => performance.now() < deadline && (options.maxRequests === undefined || sent++ < options.maxRequests);
  const think = options.thinkMs ? () => new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * options.thinkMs!)) : null;
  const worker = async () => {
    while (more()) {
      await once();
      if (think) await think();
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: options.connections }, worker));
  const elapsed = (performance.now() - started) / 1000;
  if (!shared) agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] * 100) / 100;
  return { requests: latencies.length, errors, requestsPerSecond: Math.round(latencies.length / elapsed), p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) };
}

// As a child process: options as JSON on stdin (they hold tokens: never in argv), the result on stdout.
if (process.argv[1]?.endsWith('load.ts')) {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const result = await runLoad(JSON.parse(input) as LoadOptions);
  process.stdout.write(JSON.stringify(result) + '\n');
}
