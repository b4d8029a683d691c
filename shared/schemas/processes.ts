// The desktop's view of supervised child processes.
import { z } from 'zod';

export const ProcessIdParams = z.object({ processId: z.string().min(1).max(100) });

export const SupervisedProcess = z.object({
  id: z.string(),
  pid: z.number().int(),
  label: z.string(),
  owner: z.string().nullable(),
  command: z.string(),
  args: z.array(z.string()),
  cwd: z.string().nullable(),
  startedAt: z.string(),
  state: z.string(),
  /** The last lines it printed (stdout and stderr interleaved). */
  tail: z.array(z.string()),
});

export const ProcessesResponse = z.object({ processes: z.array(SupervisedProcess) });
export const ProcessKilledResponse = z.object({ killed: z.literal(true) });
