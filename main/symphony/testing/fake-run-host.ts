// A run host with the fake provider registered (tests and benchmarks only): the same host,
// the same loop and judges, turns with no CLI and no model. Use it with
// `services.runs.setHostScript(FAKE_RUN_HOST)` and launch with provider `fake`.
import { fileURLToPath } from 'node:url';
import { FakeProvider } from '../../providers/testing/fake-provider.js';
import { startHost } from '../run-host.js';

export const FAKE_RUN_HOST = fileURLToPath(import.meta.url);

// Only when run as the host entry (importing it for the path must not start a host).
if (process.argv[1] === FAKE_RUN_HOST) startHost(() => [new FakeProvider({ deltas: 5, intervalMs: 50 })]);
