// The recent requests, for the Activity screen's audit trail: a bounded ring in memory (the
// log file holds older ones). One small entry per request, which is also the request log
// line's record; never a body, a query string or a token.
import type { RequestRecord } from './request-log.js';

export interface ApprovalNote {
  /** allow_once | allow_always | deny, or timeout / withdrawn when nobody decided. */
  decision: string;
  /** Who decided: `renderer` (the app), `token` (the CLI or a local tool), ... */
  decidedBy: string | null;
}

export interface ActivityEntry extends RequestRecord {
  seq: number;
  /** Epoch ms when the reply finished. */
  time: number;
  /** The URL path without its query (capped). */
  path: string;
  /** The verified origin of a session caller (the Origin header is `origin`, as sent). */
  callerOrigin: string | null;
  /** What the caller says it is (X-Desktop-Source), shown as a claim. */
  claimedSource: string | null;
  /** Present when the policy asked a person. */
  approval: ApprovalNote | null;
}

export interface ActivityFilter {
  /** Entries after this sequence number (live polling). */
  after?: number;
  /** A caller kind (`renderer`, `token`, `relay`, `origin`) or one paired origin. */
  caller?: string;
  operation?: string;
  limit?: number;
}

export const ACTIVITY_CAPACITY = 1000;

export class ActivityRing {
  /**
   * Each slot's object is made once and then takes the fields of every later entry written
   * there: recording allocates nothing once the ring is full (this runs on every request).
   * So no entry leaves the ring: `list` gives copies.
   */
  private readonly entries: Array<ActivityEntry | undefined>;
  private next = 0;

  constructor(readonly capacity = ACTIVITY_CAPACITY) {
    this.entries = new Array(capacity);
  }

  /** The sequence number the next entry gets. */
  nextSeq(): number {
    return this.next + 1;
  }

  /** Keeps a copy of `entry` (the caller may reuse its object). */
  record(entry: ActivityEntry): void {
    const at = this.next % this.capacity;
    copyEntry((this.entries[at] ??= blankEntry()), entry);
    this.next++;
  }

  latestSeq(): number {
    return this.next;
  }

  /** Newest first; copies, so a later request never changes what a reader holds. */
  list(filter: ActivityFilter = {}): ActivityEntry[] {
    const limit = Math.min(filter.limit ?? 200, this.capacity);
    const out: ActivityEntry[] = [];
    const oldest = Math.max(0, this.next - this.capacity);
    for (let i = this.next - 1; i >= oldest && out.length < limit; i--) {
      const entry = this.entries[i % this.capacity]!;
      if (filter.after !== undefined && entry.seq <= filter.after) break;
      if (filter.operation && entry.operation !== filter.operation) continue;
      if (filter.caller && entry.callerKind !== filter.caller && entry.callerOrigin !== filter.caller) continue;
      out.push({ ...entry });
    }
    return out;
  }
}

/**
 * An entry to fill in. Every entry object is made here, so they all share one shape whose
 * two fractional numbers (durationMs, time) are overwritten in place, not boxed anew.
 */
export function blankEntry(): ActivityEntry {
  return {
    requestId: '',
    operation: '',
    callerKind: null,
    origin: null,
    method: '',
    route: null,
    status: 0,
    durationMs: 0,
    seq: 0,
    time: 0,
    path: '',
    callerOrigin: null,
    claimedSource: null,
    approval: null,
  };
}

/** Field by field: Object.assign would box the two fractional numbers. */
function copyEntry(to: ActivityEntry, from: ActivityEntry): void {
  to.requestId = from.requestId;
  to.operation = from.operation;
  to.callerKind = from.callerKind;
  to.origin = from.origin;
  to.method = from.method;
  to.route = from.route;
  to.status = from.status;
  to.durationMs = from.durationMs;
  to.seq = from.seq;
  to.time = from.time;
  to.path = from.path;
  to.callerOrigin = from.callerOrigin;
  to.claimedSource = from.claimedSource;
  to.approval = from.approval;
}
