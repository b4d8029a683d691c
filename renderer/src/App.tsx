// The shell: pairs this window, then shows the screens in a sidebar layout. A 401 from
// any call ends the session and says how to pair again.
import { useCallback, useEffect, useState } from 'react';
import type { GatewayClient, GatewayError, PendingApproval } from '../../shared/client.js';
import { ClientContext, usePolling } from './api.js';
import { bridge } from './bridge.js';
import { pairCommand } from './pairing.js';
import { scheduleRenewal, startSession, type Phase } from './session.js';
import { ActivityScreen } from './screens/ActivityScreen.js';
import { AgentsScreen } from './screens/AgentsScreen.js';
import { ApprovalsScreen } from './screens/ApprovalsScreen.js';
import { BinaryPathsScreen } from './screens/BinaryPathsScreen.js';
import { PairingScreen } from './screens/PairingScreen.js';
import { ProcessesScreen } from './screens/ProcessesScreen.js';
import { RelayScreen } from './screens/RelayScreen.js';
import { ReposScreen } from './screens/ReposScreen.js';
import { RunsScreen } from './screens/RunsScreen.js';
import { RunNotices } from './runs/RunNotices.js';
import { TicketPage, type TicketRef } from './runs/TicketPage.js';

// One pairing per page load: a challenge is single use, and StrictMode runs effects twice.
let firstStart: Promise<Phase> | null = null;

export function Root() {
  const [phase, setPhase] = useState<Phase | null>(null);

  const endSession = useCallback((error: GatewayError) => {
    setPhase((current) =>
      current && current.kind === 'paired'
        ? { kind: 'ended', gatewayUrl: current.gatewayUrl, message: error.message, viaBridge: current.viaBridge }
        : current,
    );
  }, []);

  useEffect(() => {
    firstStart ??= startSession(endSession);
    void firstStart.then(setPhase);
  }, [endSession]);

  // Only the window can mint its own challenges; a /ui/ page keeps its session until it ends.
  const paired = phase?.kind === 'paired' && phase.viaBridge ? phase : null;
  useEffect(() => {
    if (!paired) return;
    return scheduleRenewal(paired.client, paired.expiresAt, (expiresAt) =>
      setPhase((current) => (current === paired ? { ...paired, expiresAt } : current)),
    );
  }, [paired]);

  const pairAgain = useCallback(() => {
    setPhase(null);
    void startSession(endSession).then(setPhase);
  }, [endSession]);

  if (!phase) return <Splash title="Pairing with the gateway…" />;
  if (phase.kind === 'paired') {
    return (
      <ClientContext.Provider value={phase.client}>
        <Shell gatewayUrl={phase.gatewayUrl} />
      </ClientContext.Provider>
    );
  }
  return <NotPaired phase={phase} onPairAgain={pairAgain} />;
}

function Splash({ title }: { title: string }) {
  return (
    <main className="splash" aria-busy="true">
      <p className="muted">{title}</p>
    </main>
  );
}

function NotPaired({ phase, onPairAgain }: { phase: Exclude<Phase, { kind: 'paired' }>; onPairAgain: () => void }) {
  const viaBridge = phase.kind !== 'unpaired' && phase.viaBridge;
  const title =
    phase.kind === 'ended' ? 'Paired session ended' : phase.kind === 'failed' ? 'Pairing failed' : 'This page is not paired';
  return (
    <main className="splash">
      <section className="card narrow" data-testid="not-paired" data-phase={phase.kind}>
        <h1>{title}</h1>
        {phase.kind === 'ended' ? (
          <p>
            The gateway no longer accepts this window's session: it was revoked, it expired, or the gateway's data
            was reset. <span className="muted">({phase.message})</span>
          </p>
        ) : null}
        {phase.kind === 'failed' ? <p className="error-note">{phase.message}</p> : null}
        {viaBridge ? (
          <button className="primary" onClick={onPairAgain} data-testid="pair-again">
            Pair again
          </button>
        ) : (
          <>
            <p>To pair, run this where the gateway runs and open the URL it prints (it works once, for two minutes):</p>
            <pre className="command" data-testid="pair-command">{pairCommand(phase.gatewayUrl)}</pre>
          </>
        )}
      </section>
    </main>
  );
}

const SCREENS = [
  { id: 'pairing', label: 'Pairing' },
  { id: 'approvals', label: 'Approvals' },
  { id: 'runs', label: 'Runs' },
  { id: 'activity', label: 'Activity' },
  { id: 'repos', label: 'Repositories' },
  { id: 'binaries', label: 'Binary paths' },
  { id: 'agents', label: 'Agents' },
  { id: 'processes', label: 'Processes' },
  { id: 'relay', label: 'Cloud relay' },
] as const;

type ScreenId = (typeof SCREENS)[number]['id'];

function Shell({ gatewayUrl }: { gatewayUrl: string }) {
  const [screen, setScreen] = useState<ScreenId>('approvals');
  // The ticket page open on the Runs screen (its run, reviews and preview), if any.
  const [ticket, setTicket] = useState<TicketRef | null>(null);
  const openTicket = useCallback((next: TicketRef) => {
    setTicket(next);
    setScreen('runs');
  }, []);
  const approvals = usePolling((client: GatewayClient) => client.listApprovals().then((r) => r.approvals), 1000);
  const pending: PendingApproval[] = approvals.data ?? [];

  useEffect(() => bridge()?.onShowApprovals?.(() => setScreen('approvals')), []);
  // In the window, main announces new approvals at once; the poll is the fallback.
  const reloadApprovals = approvals.reload;
  useEffect(() => bridge()?.onApproval?.(() => void reloadApprovals()), [reloadApprovals]);

  return (
    <div className="layout">
      <nav className="sidebar" aria-label="Screens">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          <div>
            <strong>Symphony</strong>
            <small>Desktop gateway</small>
          </div>
        </div>
        <ul>
          {SCREENS.map((item) => (
            <li key={item.id}>
              <button
                className={item.id === screen ? 'nav-item active' : 'nav-item'}
                aria-current={item.id === screen ? 'page' : undefined}
                onClick={() => {
                  setScreen(item.id);
                  if (item.id === 'runs') setTicket(null);
                }}
                data-testid={`nav-${item.id}`}
              >
                <span>{item.label}</span>
                {item.id === 'approvals' && pending.length > 0 ? (
                  <span className="count" data-testid="pending-count" aria-label={`${pending.length} pending`}>
                    {pending.length}
                  </span>
                ) : null}
              </button>
            </li>
          ))}
        </ul>
        <p className="sidebar-foot muted" title="Gateway address">
          {gatewayUrl.replace(/^https?:\/\//, '')}
        </p>
      </nav>
      <main className="content" data-testid={`screen-${screen}`}>
        {screen !== 'approvals' && pending.length > 0 ? (
          <div className="banner" role="status">
            <span>
              {pending.length === 1 ? 'A request is' : `${pending.length} requests are`} waiting for your approval.
            </span>
            <button onClick={() => setScreen('approvals')}>Review</button>
          </div>
        ) : null}
        <RunNotices onOpen={openTicket} />
        {screen === 'pairing' && <PairingScreen gatewayUrl={gatewayUrl} />}
        {screen === 'approvals' && <ApprovalsScreen pending={pending} error={approvals.error} reload={approvals.reload} />}
        {screen === 'activity' && <ActivityScreen />}
        {screen === 'repos' && <ReposScreen />}
        {screen === 'runs' && (ticket ? <TicketPage key={`${ticket.repoPath}\n${ticket.ticketId}`} ticket={ticket} onBack={() => setTicket(null)} /> : <RunsScreen onOpen={openTicket} />)}
        {screen === 'binaries' && <BinaryPathsScreen />}
        {screen === 'agents' && <AgentsScreen />}
        {screen === 'processes' && <ProcessesScreen />}
        {screen === 'relay' && <RelayScreen />}
      </main>
    </div>
  );
}
