// The desktop's process list: every child the supervisor runs, and a kill switch per tree.
import { ProcessIdParams, ProcessesResponse, ProcessKilledResponse } from '../../../shared/schemas/processes.js';
import { defineRoute, type AnyRoute } from '../route.js';

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/api/gateway/desktop/processes',
    summary: 'Live supervised processes with their last output lines.',
    response: ProcessesResponse,
    handler: (_input, { services }) => ({
      processes: services.supervisor.list().map((p) => ({ ...p, args: [...p.args], tail: p.tail.map((entry) => entry.line) })),
    }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/api/gateway/desktop/processes/:processId',
    summary: 'Kill a process and everything it started; 404 when no such live process.',
    params: ProcessIdParams,
    response: ProcessKilledResponse,
    handler: async ({ params }, { services }) => {
      await services.supervisor.kill(params.processId);
      return { killed: true };
    },
  }),
];
