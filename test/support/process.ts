import { spawn, ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

/** A TCP port that was free a moment ago (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  /** Sends SIGKILL if still running (by pid of the process we spawned). */
  kill(): void;
}

/** Env for a child process: this process's env without anything that would point the app elsewhere. */
export function childEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('FLEETGRAPH_') || k.startsWith('DOCKER_')) delete env[k];
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'PORT', 'HOST', 'NODE_ENV', 'JEST_WORKER_ID', 'VAULT_ADDR', 'VAULT_TOKEN']) delete env[k];
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/** Starts `node -r ts-node/register/transpile-only src/main.ts` on a fixed port. */
export function spawnServer(env: NodeJS.ProcessEnv, port: number): ServerProcess {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    },
  };
}

/** Polls /readyz until it answers 200, or the process exits, or the time is up. */
export async function waitUntilReady(server: ServerProcess, timeoutMs: number): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void server.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`server exited before it was ready:\n${server.output().slice(-4000)}`);
    try {
      const res = await fetch(`${server.url}/readyz`);
      if (res.status === 200) return (await res.json()) as Record<string, unknown>;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`server not ready in ${timeoutMs} ms:\n${server.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Resolves with the exit code, or rejects after `ms`. */
export function exitWithin(server: ServerProcess, ms: number): Promise<number | string> {
  return Promise.race([server.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`process did not exit within ${ms} ms:\n${server.output().slice(-3000)}`)), ms))]);
}
