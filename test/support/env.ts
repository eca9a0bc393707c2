import fs from 'node:fs';
import path from 'node:path';
import 'reflect-metadata';

// Addresses written by global-setup.ts; the app under test must never pick up the
// developer's own Docker environment (dockerode reads DOCKER_HOST / DOCKER_CERT_PATH).
const file = path.resolve(__dirname, '..', '..', '.data', 'test-env.json');
const env = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
for (const [k, v] of Object.entries(env)) process.env[k] ??= v;
for (const k of ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_CONTEXT', 'DATABASE_URL', 'REDIS_URL']) delete process.env[k];
