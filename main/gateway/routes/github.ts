// GitHub pull requests and the logged-in user, through the user's gh CLI.
import {
  GitUserResponse,
  HeadShaResponse,
  PrCreateBody,
  PrCreateResponse,
  PrInlineCommentBody,
  PrListQuery,
  PrRefQuery,
  PrReplyBody,
} from '../../../shared/schemas/git.js';
import { defineRoute, type AnyRoute } from '../route.js';

const PR = '/api/gateway/git/pr';

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'POST',
    path: PR,
    summary: 'Push the current branch and open its pull request (or return the open one).',
    response: PrCreateResponse,
    body: PrCreateBody,
    classify: ({ body }) => ({ action: 'pr-create', repoPath: body.repoPath }),
    handler: ({ body }, { services, signal }) => services.github.createPr(body, signal),
  }),
  defineRoute({
    method: 'GET',
    path: `${PR}/list`,
    summary: 'Pull requests of a repository (owner/repo or a local path).',
    query: PrListQuery,
    handler: ({ query }, { services, signal }) => services.github.listPrs(query.repo, query.state, signal),
  }),
  defineRoute({
    method: 'GET',
    path: `${PR}/comments`,
    summary: 'Conversation and inline review comments of a pull request.',
    query: PrRefQuery,
    handler: ({ query }, { services, signal }) => services.github.comments(query, signal),
  }),
  defineRoute({
    method: 'GET',
    path: `${PR}/reviews`,
    summary: 'Reviews of a pull request.',
    query: PrRefQuery,
    handler: ({ query }, { services, signal }) => services.github.reviews(query, signal),
  }),
  defineRoute({
    method: 'GET',
    path: `${PR}/files`,
    summary: 'Changed files of a pull request.',
    query: PrRefQuery,
    handler: ({ query }, { services, signal }) => services.github.files(query, signal),
  }),
  defineRoute({
    method: 'GET',
    path: `${PR}/head-sha`,
    summary: 'The head commit SHA of a pull request.',
    response: HeadShaResponse,
    query: PrRefQuery,
    handler: ({ query }, { services, signal }) => services.github.headSha(query, signal),
  }),
  defineRoute({
    method: 'POST',
    path: `${PR}/reply`,
    summary: 'Reply in the thread of an inline review comment.',
    body: PrReplyBody,
    classify: () => ({ action: 'pr-reply' }),
    handler: ({ body }, { services, signal }) => services.github.reply(body, signal),
  }),
  defineRoute({
    method: 'POST',
    path: `${PR}/inline-comment`,
    summary: "Comment on a line of a pull request's diff.",
    body: PrInlineCommentBody,
    classify: () => ({ action: 'pr-inline-comment' }),
    handler: ({ body }, { services, signal }) => services.github.inlineComment(body, signal),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/gateway/git/user',
    summary: 'The GitHub login gh is signed in as.',
    response: GitUserResponse,
    handler: (_input, { services, signal }) => services.github.user(signal),
  }),
];
