// The one log line per request, built by hand into the logger's own stream. pino's general
// path (merging, serializers, a key walk) allocates several KB per line; a request line has
// fixed, flat fields, so it is a template. The line is what `log.info(fields, 'request')`
// would write: same level, time, bindings and message key, so log readers see no difference.
import { pino, type Logger } from 'pino';

export interface RequestRecord {
  requestId: string;
  operation: string;
  callerKind: string | null;
  /** The Origin header as the client sent it: escaped, never trusted. */
  origin: string | null;
  method: string;
  route: string | null;
  status: number;
  durationMs: number;
}

interface PinoInternals {
  [key: symbol]: unknown;
}

const { lsCacheSym, timeSym, chindingsSym, streamSym, messageKeySym } = pino.symbols;

export function requestLogger(log: Logger): (record: RequestRecord) => void {
  const internals = log as unknown as PinoInternals;
  const stream = internals[streamSym] as { write(line: string): unknown } | undefined;
  const time = internals[timeSym] as (() => string) | undefined;
  const level = log.levels.values.info;
  if (!stream || !time) return (record) => log.info(record, 'request');
  const head = (internals[lsCacheSym] as Record<number, string>)[level];
  const tail = `,${JSON.stringify(internals[messageKeySym] ?? 'msg')}:"request"}\n`;
  return (r) => {
    if (!log.isLevelEnabled('info')) return;
    stream.write(
      `${head}${time()}${internals[chindingsSym] as string},"requestId":"${r.requestId}","operation":"${r.operation}",` +
        `"callerKind":${r.callerKind === null ? 'null' : `"${r.callerKind}"`},"origin":${r.origin === null ? 'null' : JSON.stringify(r.origin)},` +
        // The method is one Node's parser knows and the route a table path: neither needs escaping.
        `"method":"${r.method}","route":${r.route === null ? 'null' : `"${r.route}"`},` +
        `"status":${r.status},"durationMs":${r.durationMs}${tail}`,
    );
  };
}
