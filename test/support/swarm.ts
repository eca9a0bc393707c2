import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestApp } from './app';
import { InitSwarmDocument, JoinSwarmDocument, RegisterDockerHostDocument, SwarmClusterNodesDocument, SyncSwarmClusterDocument } from '../../src/generated/graphql';

const run = promisify(execFile);
const SCRIPT = path.resolve(__dirname, 'swarm.sh');

/** Node numbers of the test swarm (three dockerd, each in its own network namespace). */
export type SwarmNodeNo = 1 | 2 | 3;
export const SWARM_NODES: SwarmNodeNo[] = [1, 2, 3];

export interface SwarmNodeEnv {
  socket: string;
  /** unix:///…/docker.sock, as registered with registerDockerHost. */
  endpoint: string;
  /** Underlay address (the swarm advertise address). */
  addr: string;
  hostname: string;
}

let cached: Record<SwarmNodeNo, SwarmNodeEnv> | undefined;

/** Environment for the docker CLI pinned to a node, whatever the caller's DOCKER_* say. */
function cliEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['DOCKER_HOST', 'DOCKER_TLS', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_CONTEXT', 'DOCKER_API_VERSION']) delete env[k];
  return env;
}

/** Runs test/support/swarm.sh with a subcommand; resolves with stdout. */
export async function swarmScript(...args: string[]): Promise<string> {
  const { stdout } = await run(SCRIPT, args, { env: process.env, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** The nodes' sockets and addresses (`swarm.sh env`). */
export async function swarmNodes(): Promise<Record<SwarmNodeNo, SwarmNodeEnv>> {
  if (cached) return cached;
  const env: Record<string, string> = {};
  for (const line of (await swarmScript('env')).split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  const node = (i: SwarmNodeNo): SwarmNodeEnv => ({
    socket: env[`FLEETGRAPH_SWARM_N${i}_SOCKET`],
    endpoint: `unix://${env[`FLEETGRAPH_SWARM_N${i}_SOCKET`]}`,
    addr: env[`FLEETGRAPH_SWARM_N${i}_ADDR`],
    hostname: env[`FLEETGRAPH_SWARM_N${i}_HOSTNAME`],
  });
  cached = { 1: node(1), 2: node(2), 3: node(3) };
  return cached;
}

/**
 * Brings the three node daemons up (idempotent: ~2 s cold, well under a second when they run)
 * and resets them: no node in a swarm, no containers. Call it in beforeAll of every swarm test
 * file, so files never see each other's swarm; the normal test run pays nothing unless a swarm
 * file runs.
 */
export async function swarmUpClean(): Promise<Record<SwarmNodeNo, SwarmNodeEnv>> {
  await swarmScript('up');
  await swarmScript('reset');
  return swarmNodes();
}

/** Leaves the daemons running but out of any swarm (afterAll). */
export async function swarmReset(): Promise<void> {
  await swarmScript('reset');
}

/** Runs the docker CLI against one node; resolves with trimmed stdout. */
export async function swarmDocker(node: SwarmNodeNo, ...args: string[]): Promise<string> {
  const { socket } = (await swarmNodes())[node];
  const { stdout } = await run('docker', ['-H', `unix://${socket}`, ...args], { env: cliEnv(), maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/** `docker node ls` on a node as { hostname: "Ready Active Leader" }. */
export async function nodeTable(node: SwarmNodeNo): Promise<Record<string, string>> {
  const out = await swarmDocker(node, 'node', 'ls', '--format', '{{.Hostname}}\t{{.Status}} {{.Availability}} {{.ManagerStatus}}');
  return Object.fromEntries(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t') as [string, string]),
  );
}

/**
 * Waits until node I holds its worker certificate after a demotion (~9 s here). Promoting a
 * node again before that makes swarmkit wait out its role-change timeout ("failed to get
 * worker role after manager stop, restarting manager", ~30 s) before the node is Reachable.
 * Read from the node's own certificate file: the Engine API does not show it.
 */
export async function waitForWorkerCertificate(i: SwarmNodeNo, timeoutMs = 30_000): Promise<void> {
  const base = (await swarmNodes())[i].socket.replace(/\/docker\.sock$/, '');
  const file = path.join(base, 'data', 'swarm', 'certificates', 'swarm-node.crt');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (/OU=swarm-worker/.test(new X509Certificate(fs.readFileSync(file)).subject)) return;
    } catch {
      /* being rewritten */
    }
    if (Date.now() > deadline) throw new Error(`n${i} has no worker certificate after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export const stopNode = (i: SwarmNodeNo) => swarmScript('stop-node', String(i));
export const startNode = (i: SwarmNodeNo) => swarmScript('start-node', String(i));

// ---------------------------------------------------------------- API helpers shared by the swarm test files

/** Throws with the errors when a GraphQL result has any; returns data. */
export function ok<T>(res: { data?: T | null; errors?: readonly unknown[] }): T {
  if (res.errors?.length) throw new Error(JSON.stringify(res.errors));
  return res.data as T;
}

export interface ApiSwarm {
  /** Global ids of the DockerHosts registered for n1..n3. */
  hosts: Record<SwarmNodeNo, string>;
  clusterId: string;
}

/** Registers the three node daemons as DockerHosts (unix sockets). */
export async function registerSwarmHosts(t: TestApp, token: string, prefix: string): Promise<Record<SwarmNodeNo, string>> {
  const nodes = await swarmNodes();
  const hosts = {} as Record<SwarmNodeNo, string>;
  for (const i of SWARM_NODES) {
    const res = ok(await t.gql(RegisterDockerHostDocument, { input: { name: `${prefix}-n${i}`, apiEndpoint: nodes[i].endpoint, environment: 'development' } }, token));
    hosts[i] = res.registerDockerHost.host.id;
  }
  return hosts;
}

/**
 * Forms the swarm through the API: initSwarm on n1, joinSwarm n2 and n3 with the given roles,
 * then waits until the cluster lists all three nodes ready (and the managers reachable).
 */
export async function formSwarmViaApi(t: TestApp, token: string, hosts: Record<SwarmNodeNo, string>, name: string, roles: { 2: 'MANAGER' | 'WORKER'; 3: 'MANAGER' | 'WORKER' }): Promise<string> {
  const init = ok(await t.gql(InitSwarmDocument, { input: { hostId: hosts[1], name, syncIntervalSeconds: 30 } }, token));
  const clusterId = init.initSwarm.cluster.id;
  for (const i of [2, 3] as const) ok(await t.gql(JoinSwarmDocument, { input: { hostId: hosts[i], clusterId, role: roles[i] } }, token));
  const managers = 1 + [roles[2], roles[3]].filter((r) => r === 'MANAGER').length;
  const deadline = Date.now() + 60_000;
  for (;;) {
    ok(await t.gql(SyncSwarmClusterDocument, { input: { id: clusterId } }, token));
    const nodes = ok(await t.gql(SwarmClusterNodesDocument, { id: clusterId }, token)).swarmCluster.nodes.nodes;
    if (nodes.length === 3 && nodes.every((n) => n.state === 'ready') && nodes.filter((n) => n.role === 'MANAGER' && (n.leader || n.managerReachability === 'reachable')).length === managers)
      return clusterId;
    if (Date.now() > deadline) throw new Error(`swarm not ready: ${JSON.stringify(nodes)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Polls `deployment(id)` (selecting `fields`, which must include status) until it is no longer PENDING or IN_PROGRESS; returns it. */
export async function deploymentEnded<D extends { status: string }>(t: TestApp, token: string, id: string, fields: string, timeoutMs = 120_000): Promise<D> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = ok(await t.gql<{ deployment: D }, { id: string }>(`query($id: ID!) { deployment(id: $id) { ${fields} } }`, { id }, token)).deployment;
    if (d.status !== 'PENDING' && d.status !== 'IN_PROGRESS') return d;
    if (Date.now() > deadline) throw new Error(`deployment still ${d.status} after ${timeoutMs} ms: ${JSON.stringify(d).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
