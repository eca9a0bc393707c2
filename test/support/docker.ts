import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { pack } from 'tar-stream';
import { RegisterDockerHostDocument } from '../../src/generated/graphql';
import { testEnv, TestApp } from './app';

const run = promisify(execFile);

/** Environment for the docker CLI pinned to the test daemon, whatever the caller's DOCKER_* say. */
function cliEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['DOCKER_HOST', 'DOCKER_TLS', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_CONTEXT']) delete env[k];
  return env;
}

/** The test dockerd's unix socket. */
export const dockerSocket = () => testEnv('FLEETGRAPH_TEST_DOCKER_SOCKET');
export const dockerEndpoint = () => `unix://${dockerSocket()}`;
export const TEST_IMAGE = 'local/busybox:1';

/** Runs the docker CLI against the test daemon; resolves with trimmed stdout. */
export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', ['-H', dockerEndpoint(), ...args], { env: cliEnv(), maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/** Runs test/support/services.sh with a subcommand (restart-docker, stop-docker, …). */
export async function services(cmd: string): Promise<string> {
  const script = path.resolve(__dirname, 'services.sh');
  const { stdout } = await run(script, [cmd], { env: process.env, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

export interface TestCerts {
  ca: string;
  cert: string;
  key: string;
  wrongCa: string;
  wrongCert: string;
  wrongKey: string;
}

/** The PEM files services.sh made for the TLS listener (and a second, unrelated CA). */
export function testCerts(): TestCerts {
  const dir = testEnv('FLEETGRAPH_TEST_DOCKER_CERTS');
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
  return { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem'), wrongCa: read('wrong-ca.pem'), wrongCert: read('wrong-cert.pem'), wrongKey: read('wrong-key.pem') };
}

/** A unique name for containers/networks/volumes made by a test (cleaned up by prefix). */
export function uniqueName(prefix: string): string {
  return `fgt-${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Removes containers, networks and volumes this test process made (names from uniqueName). */
export async function cleanupDocker(): Promise<void> {
  const mine = `-${process.pid}-`;
  const ids = (await docker('ps', '-aq', '--filter', `name=${mine}`)).split('\n').filter(Boolean);
  if (ids.length) await docker('rm', '-f', ...ids).catch(() => undefined);
  const nets = (await docker('network', 'ls', '-q', '--filter', `name=${mine}`)).split('\n').filter(Boolean);
  if (nets.length) await docker('network', 'rm', ...nets).catch(() => undefined);
  const vols = (await docker('volume', 'ls', '-q', '--filter', `name=${mine}`)).split('\n').filter(Boolean);
  if (vols.length) await docker('volume', 'rm', '-f', ...vols).catch(() => undefined);
}

/** A tar archive (a build context) from file name → content, base64-encoded. */
export async function tarBase64(files: Record<string, string>): Promise<string> {
  const p = pack();
  for (const [name, content] of Object.entries(files)) p.entry({ name }, content);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('base64');
}

/** Registers the test dockerd (unix socket) as a host of `token`'s account; returns its global id. */
export async function registerLocalHost(t: TestApp, token: string, name = 'local'): Promise<string> {
  const res = await t.gql(RegisterDockerHostDocument, { input: { name, apiEndpoint: dockerEndpoint(), environment: 'development' } }, token);
  if (res.errors) throw new Error(`registerDockerHost failed: ${JSON.stringify(res.errors)}`);
  return res.data!.registerDockerHost.host.id;
}

/** Registers the test dockerd reached through a loopback forwarder on `port` (tcp://127.0.0.1:port; the app must allow 127.0.0.1); returns its global id. */
export async function registerForwardedHost(t: TestApp, token: string, port: number, name: string): Promise<string> {
  const res = await t.gql(RegisterDockerHostDocument, { input: { name, apiEndpoint: `tcp://127.0.0.1:${port}`, environment: 'development', syncIntervalSeconds: 3600 } }, token);
  if (res.errors) throw new Error(`registerDockerHost failed: ${JSON.stringify(res.errors)}`);
  return res.data!.registerDockerHost.host.id;
}
