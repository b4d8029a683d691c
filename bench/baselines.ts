// The baselines the gateway is compared with, each in a process of its own:
//   node-http   a bare node:http server answering the same JSON
//   koa-router  Koa + @koa/router with the SAME routes registered as the gateway's table,
//               so that the router's own cost is in the baseline, not counted against us.
// Run: node --import tsx bench/baselines.ts node-http|koa-router
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

const kind = process.argv[2];
const server = kind === 'node-http' ? nodeHttp() : kind === 'koa-router' ? koaWithTheGatewaysRoutes() : null;
if (!server) throw new Error('usage: baselines.ts node-http|koa-router');
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(JSON.stringify({ event: 'listening', port: typeof address === 'object' && address ? address.port : 0, routes: ROUTE_TABLE.length }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
