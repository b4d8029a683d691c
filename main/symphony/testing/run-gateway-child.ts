// A run gateway in its own process, for the crash tests: the test SIGKILLs it mid-run.
// Usage: node --import tsx run-gateway-child.ts '{"root","dataDir","homes","apiUrl","settings"?}'
// Prints one line {port, token} once listening, then serves until killed.
import { startRunGateway } from './run-fixture.js';

const { root, dataDir, homes, apiUrl, settings } = JSON.parse(process.argv[2]) as {
  root: string; dataDir: string; homes: string; apiUrl: string; settings?: Record<string, unknown>;
};
const gw = await startRunGateway({ root, dataDir, homes, api: { url: apiUrl }, settings });
process.stdout.write(`${JSON.stringify({ port: gw.port, token: gw.token })}\n`);
