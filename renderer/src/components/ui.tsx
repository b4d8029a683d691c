// Small building blocks the screens share.
import type { ReactNode } from 'react';
import { absoluteTime, relativeTime } from '../format.js';
import type { Timestamp } from '../../../shared/client.js';

export function Section(props: { title: string; description?: ReactNode; actions?: ReactNode; children: ReactNode; testId?: string }) {
  return (
    <section className="card" data-testid={props.testId} aria-label={props.title}>
      <header className="card-header">
        <div>
          <h2>{props.title}</h2>
          {props.description ? <p className="muted">{props.description}</p> : null}
        </div>
        {props.actions ? <div className="card-actions">{props.actions}</div> : null}
      </header>
      {props.children}
    </section>
  );
}

export function ErrorNote({ error }: { error: string | null | undefined }) {
  return error ? (
    <p className="error-note" role="alert">
      {error}
    </p>
  ) : null;
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function Time({ value }: { value: Timestamp | null | undefined }) {
  const title = absoluteTime(value);
  return (
    <time dateTime={title ? new Date(value as Timestamp).toISOString() : undefined} title={title}>
      {relativeTime(value)}
    </time>
  );
}

export function Badge({ tone, children }: { tone: 'neutral' | 'good' | 'warn' | 'bad' | 'info'; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

/** Shown until the first answer; after a failed first load the ErrorNote says why instead. */
export function Loading({ failed = false }: { failed?: boolean }) {
  return failed ? null : (
    <p className="muted" aria-busy="true">
      Loading…
    </p>
  );
}
