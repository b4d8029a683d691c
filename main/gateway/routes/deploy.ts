// A ticket's dev server: detect how it starts, edit that, start it in the ticket's worktree,
// status with the log tail, loopback health, and stop it (only servers this gateway started).
import {
  DeployCheckExistingBody, DeployConfigBody, DeployConfigQuery, DeployHealthBody, DeployKillBody, DeploySettingsBody,
  DeployStartBody, DeployStartResponse, DeployStatusParams, DeployStatusQuery, DeployStatusResponse, DeployTeardownBody,
  ExtractInfoBody, RepoPathBody,
} from '../../../shared/schemas/deploy.js';
import { defineRoute, type AnyRoute } from '../route.js';
import type { LazyServiceName } from '../../services.js';

const API = '/api/gateway/deploy';

/** Built before this family's first request (see LazyServiceName in services.ts). */
export const needs: readonly LazyServiceName[] = ['deploy'];

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'POST', path: API, summary: "Start the ticket's dev server in its worktree (install first when configured); answers at once, progress in status.",
    body: DeployStartBody, response: DeployStartResponse,
    classify: ({ body }) => ({ repoPath: body.repoPath }),
    handler: ({ body }, { services, signal }) => services.deploy.start(body, signal),
  }),
  defineRoute({
    method: 'GET', path: `${API}/status/:ticketId`, summary: 'running | completed | failed | not-started, with the log tail, pid and deployedUrl.',
    params: DeployStatusParams, query: DeployStatusQuery, response: DeployStatusResponse,
    handler: ({ params, query }, { services }) => services.deploy.status(params.ticketId, query.repo),
  }),
  defineRoute({
    method: 'POST', path: `${API}/health`, summary: 'HEAD a loopback URL (redirects reported, not followed); other URLs: OUTBOUND_URL_DENIED.',
    body: DeployHealthBody,
    handler: ({ body }, { services }) => services.deploy.health(body.url),
  }),
  defineRoute({
    method: 'POST', path: `${API}/check-existing`, summary: "Is the ticket's port held, and by which of this gateway's dev servers.",
    body: DeployCheckExistingBody,
    classify: ({ body }) => ({ repoPath: body.repoPath }),
    handler: ({ body }, { services }) => services.deploy.checkExisting(body),
  }),
  defineRoute({
    method: 'POST', path: `${API}/kill`, summary: 'Stop a dev server this gateway started, by pid or ticket; any other pid: 404, left alone.',
    body: DeployKillBody,
    handler: ({ body }, { services }) => services.deploy.kill(body),
  }),
  defineRoute({
    method: 'POST', path: `${API}/teardown`, summary: "Stop the ticket's dev server and run the teardown command; ports held by others are reported, never killed.",
    body: DeployTeardownBody,
    classify: ({ body }) => ({ repoPath: body.repoPath }),
    handler: ({ body }, { services }) => services.deploy.teardown(body),
  }),
  defineRoute({
    method: 'POST', path: `${API}/detect`, summary: "Detect the repository's dev server (stored; an edited config is kept).",
    body: RepoPathBody,
    classify: ({ body }) => ({ repoPath: body.repoPath }),
    handler: ({ body }, { services }) => services.deploy.detect(body.repoPath),
  }),
  defineRoute({
    method: 'POST', path: `${API}/redetect`, summary: 'Detect again, replacing the stored config (cleared when nothing is found).',
    body: RepoPathBody,
    classify: ({ body }) => ({ repoPath: body.repoPath }),
    handler: ({ body }, { services }) => services.deploy.redetect(body.repoPath),
  }),
  defineRoute({
    method: 'POST', path: `${API}/extract-info`, summary: "The URL of the ticket's dev server, else the configured one.",
    body: ExtractInfoBody,
    classify: ({ body }) => ({ repoPath: body.repoPath }),
    handler: ({ body }, { services }) => services.deploy.extractInfo(body.repoPath, body.ticketId),
  }),
  defineRoute({
    method: 'GET', path: `${API}/config`, summary: "The repository's stored deploy config, its switches and the port range.",
    query: DeployConfigQuery,
    handler: ({ query }, { services }) => services.deploy.getConfig(query.repoPath),
  }),
  defineRoute({
    method: 'PUT', path: `${API}/config`,
    summary: 'Edit the deploy config (command lines parsed once into argv, shell syntax refused) or switch .env*.local copying; a paired origin is asked first.',
    body: DeployConfigBody,
    classify: ({ body }) => ({ repoPath: body.repoPath, action: 'edit_command' }),
    handler: ({ body: { repoPath, ...edit } }, { services }) => services.deploy.editConfig(repoPath, edit),
  }),
  defineRoute({
    method: 'GET', path: `${API}/settings`, summary: 'The port range dev servers get their ports from.',
    handler: (_input, { services }) => ({ portRange: services.deploy.portRange() }),
  }),
  defineRoute({
    method: 'PUT', path: `${API}/settings`, summary: 'Set the port range dev servers get their ports from.',
    body: DeploySettingsBody,
    handler: ({ body }, { services }) => ({ portRange: services.deploy.setPortRange(body.portRange) }),
  }),
];
