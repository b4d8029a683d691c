// The plan-loop helpers the web client calls around a cloud plan loop: where its worktree
// goes (prepare), what it is about (confirm, accepting the old client's document/feature
// names too) and cancelling it in the cloud and here (cancel). The loop id is a UUID
// (checked by the schema) before it goes into a cloud URL.
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import type { PlanLoopCancelBody, PlanLoopConfirmBody, PlanLoopPrepareBody } from '../../../shared/schemas/loops.js';
import { AppError, NotFound, ServiceUnavailable } from '../../errors.js';
import { callCloud, type PopSigner } from '../../http/cloud-call.js';
import type { WorkspaceGuard } from '../../files/workspace.js';
import type { RepoRegistry } from '../../git/repos.js';
import type { GitRunner } from '../../git/runner.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import { ticketSlug, type TicketWorktrees } from '../../symphony/ticket-worktree.js';
import type { LoopService } from './loops.js';

export interface PlanLoopOptions {
  repos: RepoRegistry;
  worktrees: TicketWorktrees;
  workspace: Pick<WorkspaceGuard, 'resolve'>;
  git: GitRunner;
  loops: LoopService;
  secrets: Pick<SecretStore, 'get'>;
  apiOrigin(): string | undefined;
  /** The gateway's proof of possession for the managed key (main/relay/device-identity.ts). */
  pop: PopSigner;
}

export class PlanLoops {
  constructor(private readonly options: PlanLoopOptions) {}

  async prepare(ticketId: string, body: z.infer<typeof PlanLoopPrepareBody>, signal?: AbortSignal) {
    ticketSlug(ticketId);
    const repo = await this.repo(body.repoPath);
    const current = await this.options.git.raw(repo.path, ['rev-parse', '--abbrev-ref', 'HEAD'], 'rev-parse', { signal });
    const branch = body.baseBranch ?? (current.exitCode === 0 && current.stdout.trim() !== 'HEAD' ? current.stdout.trim() : 'main');
    return { repoPath: repo.path, worktreeDir: this.options.worktrees.expectedPath(repo.path, ticketId), repo: { fullName: repo.fullName, branch } };
  }

  async confirm(ticketId: string, body: z.infer<typeof PlanLoopConfirmBody>, _signal?: AbortSignal) {
    ticketSlug(ticketId);
    const repo = await this.repo(body.repoPath);
    const artifactId = body.artifactId ?? body.documentId;
    const artifactSlug = body.artifactSlug ?? body.documentSlug;
    const issueId = body.issueId ?? body.featureId;
    const worktreeDir = artifactSlug
      ? this.options.worktrees.expectedPath(repo.path, `loop-${artifactSlug.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 50)}`)
      : this.options.worktrees.expectedPath(repo.path, ticketId);
    if (body.loopId && artifactId) {
      const workDir = this.options.worktrees.workFolder(repo.path, ticketId);
      mkdirSync(workDir, { recursive: true, mode: 0o700 });
      const metadata = { loopId: body.loopId, artifactId, artifactSlug: artifactSlug ?? null, issueId: issueId ?? null, ticketTitle: body.ticketTitle ?? null, outcome: body.outcome ?? null, confirmedAt: new Date().toISOString() };
      writeFileSync(path.join(workDir, 'launch-metadata.json'), JSON.stringify(metadata, null, 2), { mode: 0o600 });
    }
    return { ok: true, worktreeDir };
  }

  async cancel(body: z.infer<typeof PlanLoopCancelBody>) {
    await this.repo(body.repoPath);
    const apiKey = await this.options.secrets.get('desktop-api-key');
    if (!apiKey) throw new ServiceUnavailable('API key required: set the desktop API key to cancel a loop in the cloud.', 'api_key_required');
    const origin = this.options.apiOrigin();
    if (!origin) throw new ServiceUnavailable('No cloud API origin is configured (symphony-gateway config --api-origin URL).', 'api_origin_required');
    const outcome = await callCloud({
      origin, method: 'DELETE', path: `/loops/${encodeURIComponent(body.loopId)}`, token: apiKey, timeoutMs: 10_000, pop: this.options.pop,
    });
    if (outcome.kind === 'retry' && outcome.status === null) throw new AppError(502, 'cloud_unreachable', 'The cloud could not be reached to cancel the loop.');
    // The web client matches the original's "DB cancel failed: …" wording.
    if (outcome.kind !== 'ok' && outcome.status !== 404) {
      throw new AppError(outcome.status === null || outcome.status >= 500 ? 502 : outcome.status, 'cloud_cancel_failed', `DB cancel failed: ${outcome.error}`);
    }
    try {
      await this.options.loops.kill(body.loopId);
      return { cancelled: true };
    } catch (error) {
      if (error instanceof NotFound) return { cancelled: true, warning: 'process-unknown' };
      return { cancelled: true, warning: 'process-still-running' };
    }
  }

  private async repo(repoPath: string) {
    const resolved = await this.options.workspace.resolve(repoPath);
    const repo = this.options.repos.findByPath(resolved);
    if (!repo) throw new NotFound(`${repoPath} is not a managed repository; add it on the Repositories screen first.`, 'repo_not_managed');
    return repo;
  }
}
