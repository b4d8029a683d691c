// The baselines the gateway is compared with, each in a process of its own:
//   node-http        a bare node:http server answering the same JSON
//   node-http-reply  a bare node:http server answering the gateway's very reply: the header
//                    lines and body (JSON in argv[3]: no secret in them) of a reply the gateway gave to the same
//                    request, with an X-Request-Id made per request as the gateway makes it,
//                    so that what node itself spends on those headers is not counted as ours
//   koa-router       Koa + @koa/router with the SAME routes registered as the gateway's table,
//                    so that the router's own cost is in the baseline, not counted against us.
// Run: node --import tsx bench/baselines.ts node-http|node-http-reply|koa-router
import { createServer, type Server } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import { ROUTE_TABLE } from '../shared/operations.js';

const BODY = JSON.stringify({ version: '0.0.0' });

function nodeHttp(): Server {
  return createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(BODY) });
    res.end(BODY);
  });
}

/** What node-http-reply answers: the gateway's header lines (name, value, ...) and body. */
export interface CapturedReply {
  headers: string[];
  body: string;
}

function nodeHttpWithTheGatewaysReply(reply: CapturedReply): Server {
  const at = reply.headers.indexOf('x-request-id');
  const prefix = at === -1 ? '' : reply.headers[at + 1].replace(/-\d+$/, '-');
  let requests = 0;
  return createServer((_req, res) => {
    const headers = [...reply.headers];
    if (at !== -1) headers[at + 1] = prefix + ++requests;
    res.writeHead(200, headers);
    res.end(reply.body);
  });
}

function koaWithTheGatewaysRoutes(): Server {
  const router = new Router();
  for (const entry of ROUTE_TABLE) {
    const method = entry.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
    router[method](entry.path, (ctx) => {
      ctx.body = { version: '0.0.0' };
    });
  }
  const app = new Koa();
  app.use(router.routes());
  return createServer(app.callback());
}

function serverOf(kind: string | undefined): Server {
  if (kind === 'node-http') return nodeHttp();
  if (kind === 'koa-router') return koaWithTheGatewaysRoutes();
  if (kind === 'node-http-reply') return nodeHttpWithTheGatewaysReply(JSON.parse(process.argv[3]) as CapturedReply);
  throw new Error('usage: baselines.ts node-http|node-http-reply REPLY_JSON|koa-router');
}

const server = serverOf(process.argv[2]);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(JSON.stringify({ event: 'listening', port: typeof address === 'object' && address ? address.port : 0, routes: ROUTE_TABLE.length }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
