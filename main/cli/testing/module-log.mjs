// Test aid (`node --import <this file>`): appends the URL of every module the process loads
// to $SYMPHONY_MODULE_LOG, and a `-- listening` line the moment stdout gets the "listening"
// line, so a test can tell what was imported before the port opened from what came after.
// Plain JS: it runs as a node --import before tsx compiles anything of ours.
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';

const file = process.env.SYMPHONY_MODULE_LOG;
if (file) {
  register(new URL('./module-log-hooks.mjs', import.meta.url), { data: { file } });
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk, ...rest) => {
    if (String(chunk).includes('"event":"listening"')) appendFileSync(file, '-- listening\n');
    return write(chunk, ...rest);
  };
}
