// The composition root: builds every main-process service once and hands them to
// the gateway. main/cli.ts and main/app/ both call createServices; there are no
// module-level singletons, so a test can run two gateways side by side.
import { randomBytes } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { ApprovalQueue } from './auth/approvals.js';
import { ChallengeStore } from './auth/challenges.js';
import { PairingService } from './auth/pairing.js';
import { PolicyService } from './auth/policy.js';
import { FailureLimiter } from './auth/rate-limit.js';
import { SessionStore, type SessionPolicy } from './auth/sessions.js';
import { GatewayToken } from './auth/gateway-token.js';
import { GatewayConfig } from './config/gateway-config.js';
import { GatewaySettings } from './config/gateway-settings.js';
import { appVersion, resolveDataDir } from './config/paths.js';
import { ensurePrivateDir } from './config/private-files.js';
import { RunArchives } from './files/run-archive.js';
import { FileSearch } from './files/search.js';
import { WorkspaceGuard } from './files/workspace.js';
import { GitService } from './git/git.js';
import { GitHubService } from './git/github.js';
import { RepoRegistry } from './git/repos.js';
import { GitRunner } from './git/runner.js';
import type { RelayClient, RelayClientOptions } from './relay/client.js';
import { RelaySettings } from './relay/settings.js';
import { DeviceIdentity } from './relay/device-identity.js';
import { TrustedKeys } from './relay/trusted-keys.js';
import { openSecretStore, type SecretStoreMode } from './secrets/open.js';
import type { SecretStore } from './secrets/secret-store.js';
import { getIfMigrated, openDatabase, type Db } from './store/database.js';
import { lazy, type Lazy } from './lazy.js';
import type { LoopCloud } from './relay/loops/cloud-api.js';
import type { LoopService } from './relay/loops/loops.js';
import type { LoopOutbox } from './relay/loops/outbox.js';
import type { PlanLoops } from './relay/loops/plan-loops.js';
import type { ReviewService } from './review/review-service.js';
import type { RunService } from './symphony/runs.js';
import type { RunRow } from './symphony/run-store.js';
import { liveLoopsLaunchedBy, liveRunsLaunchedBy } from './store/live-launches.js';
import type { DeployService } from './deploy/deploy.js';
import type { LearningsService } from './learnings/learnings.js';
import { SettingsStore } from './store/settings.js';
import { Supervisor } from './supervisor/supervisor.js';
import { AgentEnvironment } from './providers/agent-env.js';
import { Confiner, confinementEnabled } from './providers/confinement.js';
import { AgentSlots } from './providers/agent-slots.js';
import { readLimits } from './config/limits.js';
import { createProviderRegistry } from './providers/defaults.js';
import type { ProviderRegistry } from './providers/registry.js';
import { ChatService } from './symphony/chat-sessions.js';
import { CommitMessages } from './symphony/commit-message.js';
import { TicketConversations } from './symphony/ticket-conversations.js';
import { WebChat } from './symphony/web-chat.js';
import { TicketSessions } from './symphony/ticket-sessions.js';
import { TicketAttachments } from './files/attachments.js';
import { TicketWorktrees } from './symphony/ticket-worktree.js';
import type { PrFollower } from './symphony/pr-follow.js';
import { cliProviderConfigs } from './providers/defaults.js';
import type { GatewayLog } from './telemetry/log-files.js';
import { ActivityRing } from './telemetry/activity.js';
import { Telemetry } from './telemetry/telemetry.js';
import { cachedToolAvailability, type ToolName } from './config/tools.js';
import { defaultReadinessChecks } from './health/checks.js';
import { ReadinessService } from './health/readiness.js';

export interface ServicesOptions {
  dataDir?: string;
  secretStore?: SecretStoreMode;
  log?: Logger;
  /** The serving process's log file (main/telemetry/log-files.ts): its logger is the log, its file is
   *  named where a reply says "see the log", and close() flushes it last. */
  gatewayLog?: GatewayLog;
  /** Exact origins of the app's own renderer (the Electron window's scheme). */
  rendererOrigins?: string[];
  approvalTimeoutMs?: number;
  sessionPolicy?: Partial<SessionPolicy>;
  /** The serving process (serve, the desktop app): kill what a crashed gateway on this data dir left
   *  running, reattach or finalise live runs and loops, follow PRs, prune worktrees. CLI commands: false. */
  reapOrphans?: boolean;
  /** The log level came from a flag for this run: the stored setting does not override it. */
  logLevelFixed?: boolean;
  /** Searched before PATH for claude, codex, gh, git, python3 (tests: node_modules/.bin). */
  binarySearchDirs?: string[];
  /** Loop callback timings (tests shorten them). */
  loops?: { heartbeatMs?: number; outputEveryMs?: number; retryBackoff?: { baseMs: number; capMs: number }; watchMs?: number };
  /** Relay reconnect and recheck timings (tests shorten them). */
  relay?: Pick<RelayClientOptions, 'backoff' | 'helloTimeoutMs' | 'recheckMs'>;
  /** How often a quiet review stream says `keepalive` (default 25 s). */
  reviewKeepaliveMs?: number;
  /** A pause between the learnings batch's items (tests: to stop a gateway mid-batch). */
  learningsBatchPauseMs?: number;
  /** Stop live ticket runs on close (`serve --stop-runs-on-exit`); by default they keep going in their hosts. */
  stopRunsOnExit?: boolean;
}

/**
 * Domain services built on first use (their modules import then, not at start): a lazy
 * route family names the ones its handlers use (`needs` in its route file), and the
 * pipeline loads them before the family's first request. Until loaded, reading one throws.
 * `loops` is the cloud-loop group: loops, loopOutbox, loopCloud, planLoops. `relay` is the
 * relay client with its command checks (zod): whoever serves loads and starts it once listening.
 */
export type LazyServiceName = 'reviews' | 'deploy' | 'learnings' | 'runs' | 'loops' | 'relay';

export interface Services {
  version: string;
  dataDir: string;
  log: Logger;
  /** The log file this process writes (null: only a stream, e.g. tests and one-shot CLI commands). */
  logFile: string | null;
  db: Db;
  settings: SettingsStore;
  config: GatewayConfig;
  /** Reading and changing the gateway settings (desktop config route and CLI `config`). */
  gatewaySettings: GatewaySettings;
  secrets: SecretStore;
  /** The credential of the executor and local tools; never logged, never in argv or a child's env. */
  readonly gatewayToken: string;
  /** The same token, its check, and its rotation (`rotate-token`). */
  gatewayTokens: GatewayToken;
  /** Per process, random, held only by the relay client's loopback replay: proves a request is a relayed cloud command (never stored or logged). */
  relaySecret: string;
  sessions: SessionStore;
  challenges: ChallengeStore;
  pairingFailures: FailureLimiter;
  approvals: ApprovalQueue;
  policy: PolicyService;
  telemetry: Telemetry;
  /** The recent requests for the Activity screen (a bounded ring; older ones are in the log file). */
  activity: ActivityRing;
  /** The web client's readiness rows (GET /health-check). */
  readiness: ReadinessService;
  supervisor: Supervisor;
  /** Agent CLIs by id (claude, codex). */
  providers: ProviderRegistry;
  /** Builds every agent start's confinement (OS view, CLI sandboxes, tool checks); its on/off setting. */
  confiner: Confiner;
  /** The concurrent-agent cap of remote callers (inside confiner.prepare). */
  agentSlots: AgentSlots;
  /** What agent CLIs get of the environment: the allowlist and the user's values (`config --agent-env`). */
  agentEnv: AgentEnvironment;
  /** Terminal, ticket, run-viewer, ticket-worktree and PR-comment chat sessions and their turns. */
  chats: ChatService;
  /** The web app's list of tickets being worked on, per caller. */
  ticketSessions: TicketSessions;
  /** A ticket's chat in its worktree, its histories, and chats about PR review comments. */
  ticketConversations: TicketConversations;
  /** The web app's chat panel (POST /chat), recorded at the configured API origin. */
  webChat: WebChat;
  /** Commit messages written by a fast model turn from a worktree's diff. */
  commitMessages: CommitMessages;
  /** Images uploaded to a ticket's chat. */
  attachments: TicketAttachments;
  /** A ticket's worktree (`<parent>/<repo>-<ticket>` on `feature/<ticket>`) and its work folder under the data dir. */
  ticketWorktrees: TicketWorktrees;
  /** Code reviews by agents: runs, findings, dedup, verdicts, and the chats about them. */
  reviews: ReviewService;
  /** Ticket runs: launch, status, kill, logs; their loops run in detached run hosts that outlive the gateway. */
  runs: RunService;
  /** Completed runs follow their pull requests: new review comments and failing checks become iterations. */
  prFollower: PrFollower;
  pairing: PairingService;
  /** The gate every user-given path goes through. */
  workspace: WorkspaceGuard;
  /** Managed repositories (their roots and worktree folders feed the workspace guard). */
  repos: RepoRegistry;
  git: GitService;
  /** git through the supervisor, for domain modules that ask git directly. */
  gitRunner: GitRunner;
  github: GitHubService;
  /** Fuzzy file search with a warm index per repository. */
  fileSearch: FileSearch;
  /** Tickets' dev servers: detection, start, status, health, stop. */
  deploy: DeployService;
  /** Lessons from finished runs and chats: extraction, the pattern store, the batch, prompt sections. */
  learnings: LearningsService;
  /** Uploaded run archives unpacked for the run viewer (<dataDir>/run-viewer). */
  runArchives: RunArchives;
  relaySettings: RelaySettings;
  /** The gateway's id and Ed25519 key pair: PoP on every call made with a managed key. */
  deviceIdentity: DeviceIdentity;
  /** Loops the cloud starts here, and their callbacks (through the outbox) to the API origin. */
  loops: LoopService;
  loopOutbox: LoopOutbox;
  loopCloud: LoopCloud;
  planLoops: PlanLoops;
  /** Public keys whose signed cloud commands this desktop accepts. */
  trustedKeys: TrustedKeys;
  /** The outbound link to the cloud relay; loaded (`load('relay')`) and started by whoever serves (cli serve, the app) once listening. */
  relay: RelayClient;
  setWorkspaceRoot(dir: string | null): Promise<string | null>;
  /** Which agent and git tools this machine has (for /health), cached briefly. */
  toolAvailability(): Promise<Record<ToolName, boolean>>;
  /** The port the gateway listens on (null before it listens). */
  gatewayPort(): number | null;
  /** Called once the server listens: its own origin becomes the /ui/ renderer's origin. */
  setGatewayPort(port: number): void;
  /** Builds the named lazy domain services (and what they depend on) if not built yet. */
  load(...names: readonly LazyServiceName[]): Promise<void>;
  /** Told whenever a ticket run rests (its host ended), without loading the runs service for it (the tray's notifications). */
  onRunEnded(listener: (run: RunRow) => void): void;
  /** Stops every child, ends waiting approvals and closes the database. */
  /** Stops every streamed agent turn (chats, reviews) and lets their streams end, before connections close. */
  stopAgents(): Promise<void>;
  close(): Promise<void>;
}

export async function createServices(options: ServicesOptions = {}): Promise<Services> {
  const dataDir = resolveDataDir(options.dataDir);
  const tightened = ensurePrivateDir(dataDir);
  const log = options.gatewayLog?.log ?? options.log ?? pino({ level: process.env.SYMPHONY_LOG_LEVEL ?? 'info' });
  if (tightened) log.warn({ dataDir }, 'tightened the data dir to 0700: other users could read it');
  const db = openDatabase(join(dataDir, 'symphony.db'));
  const settings = new SettingsStore(db);
  const secrets = await openSecretStore({ mode: options.secretStore ?? 'auto', dataDir, settings, log });
  const gatewayTokens = await GatewayToken.load(secrets);
  const relaySecret = randomBytes(32).toString('base64url');
  const approvals = new ApprovalQueue(options.approvalTimeoutMs);
  const supervisor = new Supervisor({ db, settings, dataDir, log, extraSearchDirs: options.binarySearchDirs });
  const config = new GatewayConfig(settings, options.rendererOrigins);
  if (!options.logLevelFixed) followLogLevel(log, config, settings);
  const sessions = new SessionStore(db, options.sessionPolicy);
  const challenges = new ChallengeStore();
  const pairingFailures = new FailureLimiter();
  const workspace: WorkspaceGuard = new WorkspaceGuard({ settings, listRepoRoots: () => repos.allowedRoots(), extraDenied: [join(dataDir, 'secrets')] });
  const gitRunner = new GitRunner(supervisor);
  const repos = new RepoRegistry({ db, git: gitRunner, guard: workspace, dataDir });
  // git needs GitHub to know which PRs are merged, GitHub needs git to push: the closure breaks the cycle.
  const git: GitService = new GitService({ git: gitRunner, repos, guard: workspace, mergedBranches: (repoPath, signal) => github.mergedBranches(repoPath, signal) });
  const github = new GitHubService({ processes: supervisor, git, guard: workspace });
  const fileSearch = new FileSearch({ git: gitRunner, guard: workspace, onError: (error) => log.warn({ err: error }, 'file index refresh failed') });
  const agentEnv = new AgentEnvironment({ settings, secrets });
  // A remote caller's live ticket runs and cloud loops hold its cap too, counted in the database:
  // their hosts may belong to another process, and the lazy run and loop services need not be loaded.
  const agentSlots = new AgentSlots({
    limit: () => readLimits(settings).concurrentAgents,
    elsewhere: (key) => liveRunsLaunchedBy(db, key) + liveLoopsLaunchedBy(db, key),
  });
  const confiner = new Confiner({
    enabled: () => confinementEnabled(settings), environment: agentEnv, guard: workspace, log, trustedRoots: () => repos.trustedPaths(), slots: agentSlots,
    processes: supervisor,
  });
  const providers = createProviderRegistry(supervisor, confiner);
  const chats = new ChatService({ db, providers, log, supervisor });
  const ticketWorktrees = new TicketWorktrees({ git, runner: gitRunner, repos, guard: workspace, dataDir });
  const deploy = lazy(async () => {
    const { DeployService } = await import('./deploy/deploy.js');
    return new DeployService({ db, settings, processes: supervisor, resolvePath: (p) => workspace.resolve(p), worktrees: ticketWorktrees, dataDir, log });
  });
  const reviews = lazy(async () => {
    const { ReviewService } = await import('./review/review-service.js');
    return new ReviewService({ db, providers, git, workspace, ticketWorktrees, chats, binaries: supervisor.binaries, dataDir, log, supervisor, keepaliveMs: options.reviewKeepaliveMs });
  });
  const learnings: Lazy<LearningsService> = lazy(async () => {
    const [{ chatTranscript, LearningsService, runTranscript }, { readLogTail }] = await Promise.all([import('./learnings/learnings.js'), import('./symphony/run-log.js')]);
    const built = new LearningsService({ db, settings, providers, resolvePath: (p) => workspace.resolve(p), worktrees: ticketWorktrees, log, batchPauseMs: options.learningsBatchPauseMs });
    built.addTranscriptSource('Chats', (_repoPath, ticketId, caller) =>
      chatTranscript([...chats.list('symphony', ticketId, caller), ...chats.list('ticket', ticketId, caller)]),
    );
    built.addTranscriptSource('Run', async (repoPath, ticketId) => {
      const run = await (await runs.load()).find(ticketId, repoPath).catch(() => null);
      return run ? runTranscript(readLogTail(run.workDir, 2_000).lines) : null;
    });
    built.resume();
    return built;
  });
  const runEndListeners: Array<(run: RunRow) => void> = [];
  let prFollower: PrFollower | undefined;
  const runs: Lazy<RunService> = lazy(async () => {
    const [{ RunService }, { WorktreeRetention }, { RunStore }] = await Promise.all([
      import('./symphony/runs.js'), import('./symphony/worktree-retention.js'), import('./symphony/run-store.js'),
    ]);
    const retention = new WorktreeRetention({
      db, settings, runs: new RunStore(db), git: gitRunner, log,
      removeWorktree: (worktreePath) => git.worktrees.remove({ worktreePath }),
    });
    const built = new RunService({
      db, dbFile: join(dataDir, 'symphony.db'), dataDir, settings, supervisor, ticketWorktrees, log,
      binarySearchDirs: options.binarySearchDirs, providerConfigs: cliProviderConfigs(), agentEnv: () => agentEnv.handover(), retention, slots: agentSlots,
    });
    // A run that ends has its worktree measured again; only the serving process prunes due worktrees.
    built.onRunEnded((run) => retention.refresh(run));
    // A run's end frees its launcher's agent slot: a queued turn starts now, not at the queue's next look.
    built.onRunEnded(() => agentSlots.recheck());
    for (const listener of runEndListeners) built.onRunEnded(listener);
    if (options.reapOrphans) retention.start();
    // What earlier runs taught about a repository goes into its next runs' prompts.
    built.addPromptSections(async (repoPath) => (await learnings.load()).promptSections(repoPath));
    const { PrFollower } = await import('./symphony/pr-follow.js');
    prFollower = new PrFollower({ runs: built, github, git, policy: services.policy, settings, log: log.child({ component: 'pr-follow' }) });
    // Only the serving process: live runs whose host survived are reattached, the others
    // INTERRUPTED (and what a dead host left is reaped), and resting runs follow their pull
    // requests. A CLI command on the same data dir only reads: it must never finalise the
    // serving gateway's launch that is still STARTING, nor poll the PRs a second time.
    if (options.reapOrphans) {
      const follower = prFollower;
      // A run launched with openPr opens its PR as soon as it completes.
      built.onRunEnded((run) => follower.runEnded(run));
      await built.reattach();
      follower.start();
    }
    return built;
  });
  let port: number | null = null;
  const loopGroup = lazy(async () => {
    const [{ LoopCloud }, { LoopOutbox }, { LoopService }, { PlanLoops }] = await Promise.all([
      import('./relay/loops/cloud-api.js'), import('./relay/loops/outbox.js'), import('./relay/loops/loops.js'), import('./relay/loops/plan-loops.js'),
    ]);
    const loopCloud = new LoopCloud({
      apiOrigin: () => config.apiOrigin(), secrets, log: log.child({ component: 'loops' }),
      apiKey: () => secrets.get('desktop-api-key'), pop: deviceIdentity.popHeaders,
    });
    const loopOutbox: LoopOutbox = new LoopOutbox({
      db, cloud: loopCloud, log: log.child({ component: 'loops' }), backoff: options.loops?.retryBackoff,
      onGone: (loopId) => loops.cloudGone(loopId),
      onFinalized: (loopId) => void loopCloud.forgetToken(loopId).catch((error: unknown) => log.warn({ err: error, loopId }, 'could not delete a loop token')),
    });
    // A loop's agent runs in the run engine's detached host.
    const hosts = await runs.load();
    const loops: LoopService = new LoopService({
      db, dataDir, cloud: loopCloud, outbox: loopOutbox, supervisor, hosts, repos, worktrees: ticketWorktrees, workspace, log: log.child({ component: 'loops' }), slots: agentSlots,
      heartbeatMs: options.loops?.heartbeatMs, outputEveryMs: options.loops?.outputEveryMs, watchMs: options.loops?.watchMs,
    });
    const planLoops = new PlanLoops({ repos, worktrees: ticketWorktrees, workspace, git: gitRunner, loops, secrets, apiOrigin: () => config.apiOrigin(), pop: deviceIdentity.popHeaders });
    // Only the serving process reports loops: a CLI command on the same data dir must not deliver twice.
    if (options.reapOrphans) await loops.recover();
    return { loopCloud, loopOutbox, loops, planLoops };
  });
  // The relay client and its checks of cloud commands (zod schemas) load once the gateway listens.
  const relay: Lazy<RelayClient> = lazy(async () => {
    const [{ RelayClient }, { CommandSignatures }, { ExecutionCredentials }] = await Promise.all([
      import('./relay/client.js'), import('./relay/signatures.js'), import('./relay/credentials.js'),
    ]);
    const signatures = new CommandSignatures({ keys: trustedKeys, required: () => relaySettings.requireSignatures() });
    const credentials = new ExecutionCredentials({
      apiOrigin: () => config.apiOrigin(), apiKey: () => secrets.get('desktop-api-key'), computeTargetId: () => client.status().computeTargetId,
      pop: deviceIdentity.popHeaders,
    });
    const client: RelayClient = new RelayClient({
      prepare: (command, signal) => credentials.prepare(command, signal),
      verify: (command) => signatures.check(command),
      version: appVersion(),
      settings: relaySettings,
      apiKey: () => secrets.get('desktop-api-key'),
      pop: deviceIdentity.popHeaders,
      gatewayPort: () => port,
      gatewayToken: () => gatewayTokens.current(),
      relaySecret,
      allowedRoots: () => [workspace.workspaceRoot(), ...repos.allowedRoots()].filter((root): root is string => Boolean(root)),
      log: log.child({ component: 'relay' }),
      ...options.relay,
    });
    return client;
  });
  const lazyServices: Record<LazyServiceName, Lazy<unknown>> = { reviews, deploy, learnings, runs, loops: loopGroup, relay };
  const loaded = <T>(service: Lazy<T>, name: LazyServiceName): T => {
    if (service.value === undefined) throw new Error(`The ${name} service is not loaded: its route family lists it in \`needs\`, other callers await services.load('${name}').`);
    return service.value;
  };
  const relaySettings = new RelaySettings(settings, config);
  const deviceIdentity = new DeviceIdentity({ secrets });
  const trustedKeys = new TrustedKeys(settings);
  const services: Services = {
    version: appVersion(),
    dataDir,
    log,
    logFile: options.gatewayLog?.file ?? null,
    db,
    settings,
    config,
    gatewaySettings: new GatewaySettings({ config, relay: relaySettings, workspace, secrets, gatewayPort: () => port, agentEnv, confinement: confiner, settings, binaries: supervisor.binaries }),
    secrets,
    get gatewayToken() {
      return gatewayTokens.current();
    },
    gatewayTokens,
    relaySecret,
    sessions,
    challenges,
    pairingFailures,
    pairing: new PairingService({ challenges, sessions, config, secrets, failures: pairingFailures, log }),
    workspace,
    repos,
    git,
    gitRunner,
    github,
    fileSearch,
    get deploy() {
      return loaded(deploy, 'deploy');
    },
    get learnings() {
      return loaded(learnings, 'learnings');
    },
    runArchives: new RunArchives(dataDir, undefined, () => {
      const limits = readLimits(settings);
      return { maxTotalBytes: Math.round(limits.runViewerMaxGiB * 1024 ** 3), maxAgeMs: limits.runViewerMaxAgeDays * 86_400_000 };
    }),
    relaySettings,
    deviceIdentity,
    get loops() {
      return loaded(loopGroup, 'loops').loops;
    },
    get loopOutbox() {
      return loaded(loopGroup, 'loops').loopOutbox;
    },
    get loopCloud() {
      return loaded(loopGroup, 'loops').loopCloud;
    },
    get planLoops() {
      return loaded(loopGroup, 'loops').planLoops;
    },
    trustedKeys,
    get relay() {
      return loaded(relay, 'relay');
    },
    setWorkspaceRoot: (dir) => workspace.setWorkspaceRoot(dir),
    toolAvailability: cachedToolAvailability(async (name) => (await supervisor.binaries.resolve(name)).source !== 'missing'),
    gatewayPort: () => port,
    setGatewayPort(listening) {
      port = listening;
      config.addRendererOrigin(`http://127.0.0.1:${listening}`);
      config.addRendererOrigin(`http://localhost:${listening}`);
    },
    approvals,
    policy: new PolicyService(db, approvals),
    telemetry: new Telemetry(),
    activity: new ActivityRing(),
    readiness: new ReadinessService(
      defaultReadinessChecks({
        resolve: (name, options) => supervisor.binaries.resolve(name, options),
        version: (file, timeoutMs) => supervisor.binaries.version(file, timeoutMs),
        run: (command, args, runOptions) => supervisor.run(command, args, runOptions),
        worktreeSettings: () => repos.worktreeSettings(),
        appVersion: appVersion(),
        confinement: () => confiner.status(),
      }),
      () => ({ home: homedir(), claudeConfigDir: process.env.CLAUDE_CONFIG_DIR, codexHome: process.env.CODEX_HOME }),
    ),
    supervisor,
    providers,
    confiner,
    agentSlots,
    agentEnv,
    chats,
    ticketWorktrees,
    ticketSessions: new TicketSessions({ db, guard: workspace }),
    ticketConversations: new TicketConversations({ chats, worktrees: ticketWorktrees, guard: workspace }),
    webChat: new WebChat({ chats, apiOrigin: () => config.apiOrigin(), gatewayId: () => gatewayInstanceId(settings), log: log.child({ component: 'web-chat' }) }),
    commitMessages: new CommitMessages({ git, providers, dataDir, log }),
    attachments: new TicketAttachments({ workFolder: (repoPath, ticketId, signal) => ticketWorktrees.resolveWorkFolder(repoPath, ticketId, signal) }),
    get reviews() {
      return loaded(reviews, 'reviews');
    },
    get runs() {
      return loaded(runs, 'runs');
    },
    onRunEnded(listener) {
      runEndListeners.push(listener);
      runs.value?.onRunEnded(listener);
    },
    get prFollower() {
      loaded(runs, 'runs');
      return prFollower!;
    },
    async load(...names) {
      await Promise.all(names.map((name) => lazyServices[name].load()));
    },
    async stopAgents() {
      await Promise.all([chats.close(), reviews.value?.close()]);
    },
    async close() {
      // Only what was built is closed: a domain never used was never loaded.
      await prFollower?.close();
      if (options.stopRunsOnExit) await Promise.all([runs.value?.stopAll(), loopGroup.value?.loops.stopAll()]);
      runs.value?.close();
      await runs.value?.retention?.close();
      await relay.value?.stop();
      loopGroup.value?.loopOutbox.close();
      await loopGroup.value?.loops.close();
      await reviews.value?.close();
      await chats.close();
      await deploy.value?.close();
      await learnings.value?.close();
      approvals.closeAll();
      fileSearch.close();
      await supervisor.stopAll();
      db.close();
      await options.gatewayLog?.close();
    },
  };
  // Start work of the lazy domains, only when the database holds some for them: live runs
  // to reattach (before the orphan reaping: a dead host's children are reaped at reattach),
  // an interrupted learnings batch to resume, loops to report to the cloud.
  // Live runs to reattach, or resting ones that follow their pull request.
  // The serving process only: a CLI command loads the runs when it reads them, and never finalises them.
  if (options.reapOrphans && hasRow(db, "SELECT 1 FROM symphony_runs WHERE status IN ('STARTING', 'IN_PROGRESS') OR (follow_pr = 1 AND discarded_at IS NULL) LIMIT 1")) await runs.load();
  if (options.reapOrphans) {
    await supervisor.reapOrphans();
    if (
      hasRow(db, "SELECT 1 FROM loops WHERE status IN ('initializing', 'running') LIMIT 1") ||
      hasRow(db, "SELECT 1 FROM loop_outbox WHERE state = 'pending' LIMIT 1")
    ) {
      await loopGroup.load();
    }
  }
  if (hasRow(db, "SELECT 1 FROM (SELECT value FROM learning_jobs ORDER BY started_at DESC, rowid DESC LIMIT 1) WHERE json_extract(value, '$.status') = 'processing'")) {
    await learnings.load();
  }
  return services;
}

/** Whether a start-time probe finds a row (false when its table does not exist yet). */
function hasRow(db: Db, sql: string): boolean {
  return getIfMigrated(db, sql) !== undefined;
}

/** This desktop's stable id in the cloud's records (not a secret). */
function gatewayInstanceId(settings: SettingsStore): string {
  let id = settings.get<string>('gatewayInstanceId');
  if (!id) {
    id = randomUUID();
    settings.set('gatewayInstanceId', id);
  }
  return id;
}

/** The stored log level applies at start and whenever it is changed (UI or `config --log-level`). */
function followLogLevel(log: Logger, config: GatewayConfig, settings: SettingsStore): void {
  const initial = log.level;
  const apply = () => (log.level = config.logLevel() ?? initial);
  apply();
  settings.onChange((key) => (key === null || key === 'logLevel' ? apply() : undefined));
}
