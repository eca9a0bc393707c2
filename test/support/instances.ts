import http from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { parseEndpointAllowList } from '../../src/kernel/addresses';
import { DEFAULT_VAULT_TIMEOUT_MS } from '../../src/kernel/config';
import { startTestApp, TestApp, TestAppOptions } from './app';
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
