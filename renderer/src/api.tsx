// The client this window talks through, and a polling hook the screens share.
import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import { GatewayError, type GatewayClient } from '../../shared/client.js';

export const ClientContext = createContext<GatewayClient | null>(null);

export function useClient(): GatewayClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useClient outside a paired session');
  return client;
}

export interface Polled<T> {
  data: T | undefined;
  error: string | null;
  reload: () => Promise<void>;
}

/** Loads now and every `intervalMs` while mounted; keeps the last good data on errors. */
export function usePolling<T>(load: (client: GatewayClient) => Promise<T>, intervalMs: number): Polled<T> {
  const client = useClient();
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;

  const reload = useCallback(async () => {
    try {
      setData(await loadRef.current(client));
      setError(null);
    } catch (cause) {
      setError(errorText(cause));
    }
  }, [client]);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      await reload();
      if (!stopped) timer = setTimeout(tick, intervalMs);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [reload, intervalMs]);

  return { data, error, reload };
}

/** Runs one user action, remembers whether it is busy and what went wrong. */
export function useAction(): {
  busy: boolean;
  error: string | null;
  run: (action: () => Promise<unknown>) => Promise<boolean>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (cause) {
      setError(errorText(cause));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run };
}

export function errorText(cause: unknown): string {
  if (cause instanceof GatewayError) return cause.status ? `${cause.message} (${cause.code})` : cause.message;
  return cause instanceof Error ? cause.message : String(cause);
}
