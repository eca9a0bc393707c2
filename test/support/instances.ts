import http from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { parseEndpointAllowList } from '../../src/kernel/addresses';
import { DEFAULT_VAULT_TIMEOUT_MS } from '../../src/kernel/config';
import { fromGlobalId } from '../../src/graphql/relay';
import { createTestDatabase, eventually, startTestApp, TestApp, TestAppOptions } from './app';
import { cleanupDocker, docker, registerLocalHost, uniqueName } from './docker';
import { VaultDouble } from './vault-double';

/** Permissions of an instance operator in tests. */
export const INSTANCE_PERMISSIONS = ['docker.hosts.manage', 'containers.templates.manage', 'containers.instances.run'];

export const INSTANCE_FIELDS = `id name status errorCode error exitCode containerId stdout stderr stdoutDroppedBytes stderrDroppedBytes
  memoryUsedMb memoryUsedMbLast cpuUsedMillicores storageUsedBytes networkBytesIn networkBytesOut samples
  provisioningAt startedAt endedAt deadline transitions vaultTokenIssuedAt vaultTokenRevokedAt hasSecurityViolations
  taskId callbackUrl callbackStatus templateVersion memoryMb timeoutSeconds
  securityViolations { kind details detectedAt } callbackAttempts { attempt statusCode delivered error }`;

export const RUN = `mutation Run($input: RunContainerInstanceInput!) { runContainerInstance(input: $input) { instance { ${INSTANCE_FIELDS} } activity { action status errorCode } } }`;
export const GET = `query Get($id: ID!) { containerInstance(id: $id) { ${INSTANCE_FIELDS} } }`;
export const CREATE_TEMPLATE = `mutation T($input: CreateContainerTemplateInput!) { createContainerTemplate(input: $input) { template { id name version secretEnvNames } activity { status } } }`;
export const ON_INSTANCE = `subscription On($id: ID) { containerInstanceUpdated(instanceId: $id) { id status samples memoryUsedMb callbackStatus } }`;

/** An app with Vault pointed at `vault`, callbacks allowed to 127.0.0.1, workers on. */
export async function startInstancesApp(vault: VaultDouble, options: TestAppOptions = {}): Promise<TestApp> {
  return startTestApp({
    ...options,
    config: {
      workers: true,
      // a single-tenant test install: every account may use the policies the tests ask for
      vault: { addr: vault.url, token: vault.rootToken, requestTimeoutMs: Math.min(DEFAULT_VAULT_TIMEOUT_MS, 2000), accountPolicies: { '*': ['instance-reader', 'instance-writer'] } },
      callbackAllow: parseEndpointAllowList('127.0.0.1'),
      ...options.config,
    },
  });
}

export function startVault(): Promise<VaultDouble> {
  return VaultDouble.start({ policies: { 'instance-reader': ['secret/data/app/*'] } });
}

export interface ReceivedCallback {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown>;
}

/**
 * A task-callback receiver on 127.0.0.1 that checks signatures the way the README tells
 * receivers to: HMAC-SHA256 over "<timestamp>.<raw body>", constant-time compare, fresh timestamp.
 */
export async function startReceiver(opts: { failFirst?: number } = {}) {
  const received: ReceivedCallback[] = [];
  let calls = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls += 1;
      const body = Buffer.concat(chunks).toString('utf8');
      if (calls <= (opts.failFirst ?? 0)) {
        res.writeHead(503).end();
        return;
      }
      received.push({ headers: req.headers, body, json: JSON.parse(body) as Record<string, unknown> });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    get calls() {
      return calls;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What a receiver does: true when the signature matches the raw body and the timestamp is fresh. */
export function verifySignature(secret: string, headers: http.IncomingHttpHeaders, body: string, maxAgeSeconds = 300): boolean {
  const timestamp = Number(headers['x-fleetgraph-timestamp']);
  const given = String(headers['x-fleetgraph-signature'] ?? '');
  if (!Number.isSafeInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > maxAgeSeconds) return false;
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

/** What an instances test file shares: the Vault double, the app, an account's token and the local host. */
export interface InstancesSuite {
  vault: VaultDouble;
  t: TestApp;
  account: string;
  token: string;
  hostId: string;
}

/**
 * The one setup of the instances-*.test.ts files: registers beforeAll (Vault double, an app with
 * workers pointed at it, an account with the instance permissions, the test dockerd as its host)
 * and afterAll (containers of this process removed, app and double stopped). The returned object
 * is filled in by beforeAll: read its fields inside tests or later hooks.
 */
export function useInstancesSuite(options: TestAppOptions & { accountPrefix?: string } = {}): InstancesSuite {
  const suite = {} as InstancesSuite;
  const { accountPrefix, ...appOptions } = options;
  beforeAll(async () => {
    suite.vault = await startVault();
    suite.t = await startInstancesApp(suite.vault, appOptions);
    suite.account = uniqueName(accountPrefix ?? 'inst');
    suite.token = await suite.t.token({ account: suite.account, permissions: INSTANCE_PERMISSIONS });
    suite.hostId = await registerLocalHost(suite.t, suite.token);
  });
  afterAll(async () => {
    await cleanupDocker();
    await suite.t?.stop();
    await suite.vault?.close();
  });
  return suite;
}

/**
 * The setup of files that start and stop apps themselves (restarts): the Vault double and one
 * database the apps share; afterAll stops the apps still in `apps`, then the double and the database.
 */
export function useInstancesDatabase(): { vault: VaultDouble; db: { url: string; drop: () => Promise<void> }; apps: TestApp[]; start(): Promise<TestApp> } {
  const shared = { apps: [] as TestApp[] } as { vault: VaultDouble; db: { url: string; drop: () => Promise<void> }; apps: TestApp[]; start(): Promise<TestApp> };
  shared.start = async () => {
    const app = await startInstancesApp(shared.vault, { databaseUrl: shared.db.url });
    shared.apps.push(app);
    return app;
  };
  beforeAll(async () => {
    shared.vault = await startVault();
    shared.db = await createTestDatabase();
  });
  afterAll(async () => {
    await cleanupDocker();
    for (const a of shared.apps) await a.stop().catch(() => undefined);
    await shared.vault?.close();
    await shared.db?.drop();
  });
  return shared;
}

export type Instance = Record<string, unknown> & {
  id: string;
  status: string;
  transitions: Array<{ status: string }>;
  securityViolations: Array<{ kind: string; details: Record<string, unknown> }>;
  callbackAttempts: Array<{ attempt: number; statusCode: number | null; delivered: boolean; error: string | null }>;
};

/** Queries and Docker/Vault look-ups on one suite's instances (global ids). */
export function instanceHelpers(suite: InstancesSuite) {
  const uuid = (id: string) => fromGlobalId(id).id;
  const get = async (id: string, token = suite.token): Promise<Instance> => {
    const res = await suite.t.gql<{ containerInstance: Instance }, unknown>(GET, { id }, token);
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data!.containerInstance;
  };
  return {
    uuid,
    get,
    /** Runs on the suite's host unless the input names another. */
    run: (input: Record<string, unknown>, token = suite.token) =>
      suite.t.gql<{ runContainerInstance: { instance: Instance; activity: { status: string } } }, unknown>(RUN, { input: { hostId: suite.hostId, ...input } }, token),
    /** The instance once it left PENDING/PROVISIONING/RUNNING. */
    ended: (id: string, timeoutMs = 40_000, token = suite.token) =>
      eventually(async () => ((s) => (['PENDING', 'PROVISIONING', 'RUNNING'].includes(s.status) ? null : s))(await get(id, token)), timeoutMs, 300),
    running: (id: string, timeoutMs = 30_000, token = suite.token) => eventually(async () => ((s) => (s.status === 'RUNNING' ? s : null))(await get(id, token)), timeoutMs, 200),
    containersOf: async (id: string) => (await docker('ps', '-aq', '--filter', `label=fleetgraph.instance=${uuid(id)}`)).split('\n').filter(Boolean),
    tokensOf: (id: string) => suite.vault.tokens().filter((tk) => tk.meta?.fleetgraph_instance === uuid(id)),
  };
}
