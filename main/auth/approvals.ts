// Requests that wait for a person. Each pending approval is one waiting request:
// a decision resolves exactly that request and is then gone, so it cannot be replayed.
import { EventEmitter } from 'node:events';
import type { z } from 'zod';
import type { PendingApprovalView } from '../../shared/schemas/gateway.js';
import { AppError, NotFound } from '../errors.js';
import { newId } from './tokens.js';

export const APPROVAL_TIMEOUT_MS = 120_000;
/** Pending approvals one caller may have at a time; beyond that its requests get 429. */
export const MAX_PENDING_PER_CALLER = 20;

export type ApprovalDecision = 'allow_once' | 'allow_always' | 'deny';

/** One waiting request: its decision resolves exactly that request, so it is bound to its arguments by construction. */
export type PendingApproval = z.infer<typeof PendingApprovalView>;

export interface ApprovalOutcome {
  decision: ApprovalDecision;
  ruleExpiresInSeconds?: number;
  /** Who decided (a caller label: `renderer`, `token`, an origin; `shutdown` when the gateway stopped). */
  decidedBy?: string;
}

interface Waiter {
  approval: PendingApproval;
  resolve: (outcome: ApprovalOutcome) => void;
  timer: NodeJS.Timeout;
}

export type ApprovalRequest = Omit<PendingApproval, 'id' | 'createdAt' | 'expiresAt'>;

export class ApprovalQueue extends EventEmitter {
  private readonly waiting = new Map<string, Waiter>();

  constructor(
    private readonly timeoutMs = APPROVAL_TIMEOUT_MS,
    private readonly maxPendingPerCaller = MAX_PENDING_PER_CALLER,
  ) {
    super();
  }

  /**
   * Waits for a decision; 408 when nobody answers in time, and gone when the client leaves.
   * A caller (one paired origin, the renderer, the token) with too many waiting already gets 429.
   */
  wait(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalOutcome> {
    const mine = [...this.waiting.values()].filter(
      ({ approval }) => approval.caller.kind === request.caller.kind && approval.caller.origin === request.caller.origin,
    ).length;
    if (mine >= this.maxPendingPerCaller) {
      return Promise.reject(
        new AppError(
          429,
          'too_many_pending_approvals',
          `${mine} approvals of this caller already wait on the desktop; answer them there (or wait for them to time out) before asking for more.`,
          { pending: mine, limit: this.maxPendingPerCaller },
          { 'Retry-After': String(Math.ceil(this.timeoutMs / 1000)) },
        ),
      );
    }
    const now = Date.now();
    const approval: PendingApproval = {
      ...request,
      id: newId('apr'),
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.timeoutMs).toISOString(),
    };
    return new Promise<ApprovalOutcome>((resolve, reject) => {
      const finish = () => {
        clearTimeout(waiter.timer);
        signal.removeEventListener('abort', onAbort);
        this.waiting.delete(approval.id);
        this.emit('settled', approval.id);
      };
      const onAbort = () => {
        finish();
        reject(new AppError(499, 'client_closed', 'The client went away while waiting for approval.'));
      };
      const waiter: Waiter = {
        approval,
        resolve: (outcome) => {
          finish();
          resolve(outcome);
        },
        timer: setTimeout(() => {
          finish();
          reject(
            new AppError(408, 'approval_timeout', `Nobody approved ${approval.operation} in time.`, {
              operation: approval.operation,
            }),
          );
        }, this.timeoutMs),
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.set(approval.id, waiter);
      this.emit('pending', approval);
    });
  }

  list(): PendingApproval[] {
    return [...this.waiting.values()].map((waiter) => waiter.approval);
  }

  decide(id: string, outcome: ApprovalOutcome): PendingApproval {
    const waiter = this.waiting.get(id);
    if (!waiter) throw new NotFound('No pending approval with that id (it was decided, timed out or withdrawn).', 'approval_not_found');
    waiter.resolve(outcome);
    return waiter.approval;
  }

  /** Ends every wait (shutdown): the waiting requests are denied rather than left hanging. */
  closeAll(): void {
    for (const waiter of [...this.waiting.values()]) waiter.resolve({ decision: 'deny', decidedBy: 'shutdown' });
  }
}
