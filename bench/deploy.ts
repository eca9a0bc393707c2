/**
 * bench:deploy — time to converged for a 10-service stack: fleetgraph's deployStack (mutation to
 * deployment SUCCEEDED) beside `docker stack deploy --resolve-image never` (command to every
 * service N/N in `docker service ls`, first seen and held for the 5 s update monitor that
 * fleetgraph's SUCCEEDED includes), on the same 3-node test swarm, in the same run.
 *
 *   npm run bench:deploy                 # 3 rounds of each, alternating; about 3–4 min
 *   BENCH_ROUNDS=1 npm run bench:deploy
 *
 * Both sides deploy the same file under different stack names and remove it after each round.
 * The CLI side is polled every 100 ms (the CLI itself returns before the tasks run); fleetgraph
 * is polled the same way through the API (its own convergence check reads Docker every 500 ms).
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { startTestApp } from '../test/support/app';
import { formSwarmViaApi, ok, registerSwarmHosts, swarmDocker, swarmReset, swarmUpClean } from '../test/support/swarm';
import { startServices, summarize } from './common';

startServices();

const SERVICES = 10;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const POLL_MS = 100;
/** Docker's default update monitor: how long tasks must stay running to count as converged. */
const MONITOR_MS = 5000;

/** Ten services of 1–3 replicas, busybox sleeping (DNSRR: this kernel has no IPVS). */
function composeFile(): string {
  let out = 'services:\n';
  for (let i = 0; i < SERVICES; i++)
    out += `  s${i}:\n    image: local/busybox:1\n    command: ['sleep', '3600']\n    stop_grace_period: 1s\n    deploy: { replicas: ${1 + (i % 3)}, endpoint_mode: dnsrr }\n`;
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  await swarmUpClean();
  const t = await startTestApp({ config: { workers: true } });
  const token = await t.token({ account: `bench-deploy-${randomUUID().slice(0, 6)}`, permissions: ['docker.hosts.manage', 'swarm.clusters.manage', 'swarm.stacks.deploy'] });
  const hosts = await registerSwarmHosts(t, token, 'bd');
  const clusterId = await formSwarmViaApi(t, token, hosts, 'bd-swarm', { 2: 'WORKER', 3: 'WORKER' });
  const compose = composeFile();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-bench-deploy-'));
  const file = path.join(dir, 'compose.yml');
  fs.writeFileSync(file, compose);

  const listed = async (stack: string) => (await swarmDocker(1, 'service', 'ls', '--filter', `label=com.docker.stack.namespace=${stack}`, '--format', '{{.Replicas}}')).split('\n').filter(Boolean);
  const gone = async (stack: string) => {
    while ((await listed(stack)).length) await sleep(200);
    // the tasks' containers stop after the services are gone; give the nodes a moment
    await sleep(2000);
  };

  /**
   * The CLI side: the time until `docker service ls` first shows every service N/N, and until it
   * has shown N/N without a break for the update monitor (5 s): the rule fleetgraph (and
   * `docker service create`) call converged, so that both sides are timed to the same thing.
   */
  async function cli(stack: string): Promise<{ first: number; held: number }> {
    const t0 = performance.now();
    await swarmDocker(1, 'stack', 'deploy', '--resolve-image', 'never', '-c', file, stack);
    let first: number | undefined;
    let since: number | undefined;
    for (;;) {
      const reps = await listed(stack);
      const now = performance.now();
      if (reps.length === SERVICES && reps.every((r) => /^(\d+)\/\1$/.test(r.split(' ')[0]))) {
        first ??= now - t0;
        since ??= now;
        if (now - since >= MONITOR_MS) return { first, held: now - t0 };
      } else since = undefined;
      await sleep(POLL_MS);
    }
  }

  async function api(stack: string): Promise<{ ms: number; id: string }> {
    const t0 = performance.now();
    const res = ok(
      await t.gql<{ deployStack: { deployment: { id: string; stack: { id: string } } } }, Record<string, unknown>>(
        `mutation($input: DeployStackInput!) { deployStack(input: $input) { deployment { id stack { id } } } }`,
        { input: { clusterId, name: stack, compose } },
        token,
      ),
    );
    const id = res.deployStack.deployment.id;
    for (;;) {
      const d = ok(
        await t.gql<{ deployment: { status: string; error: string | null } }, Record<string, unknown>>(`query($id: ID!) { deployment(id: $id) { status error } }`, { id }, token),
      ).deployment;
      if (d.status === 'SUCCEEDED') return { ms: performance.now() - t0, id: res.deployStack.deployment.stack.id };
      if (d.status !== 'PENDING' && d.status !== 'IN_PROGRESS') throw new Error(`deployment ${d.status}: ${d.error}`);
      await sleep(POLL_MS);
    }
  }

  const cliMs: number[] = [];
  const cliHeldMs: number[] = [];
  const apiMs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (['cli', 'api'] as const) : (['api', 'cli'] as const);
    for (const side of order) {
      const stack = `b${side}${round}`;
      if (side === 'cli') {
        const c = await cli(stack);
        cliMs.push(c.first);
        cliHeldMs.push(c.held);
        await swarmDocker(1, 'stack', 'rm', stack);
      } else {
        const r = await api(stack);
        apiMs.push(r.ms);
        ok(await t.gql(`mutation($input: StackIdInput!) { removeStack(input: $input) { stack { status } } }`, { input: { stackId: r.id } }, token));
      }
      await gone(stack);
    }
    process.stderr.write(`round ${round + 1}: docker stack deploy ${cliMs.at(-1)!.toFixed(0)} ms (held 5 s: ${cliHeldMs.at(-1)!.toFixed(0)} ms), fleetgraph ${apiMs.at(-1)!.toFixed(0)} ms\n`);
  }
  const c = summarize(cliMs);
  const h = summarize(cliHeldMs);
  const a = summarize(apiMs);
  const row = (name: string, s: ReturnType<typeof summarize>) => `${name.padEnd(34)} ${String(s.n).padStart(3)} ${s.p50.toFixed(0).padStart(8)} ${s.max.toFixed(0).padStart(8)}`;
  const tasks = Array.from({ length: SERVICES }, (_v, i) => 1 + (i % 3)).reduce((a, b) => a + b, 0);
  console.log(`\n${SERVICES}-service stack (${tasks} tasks) to converged, 3-node swarm, ${os.cpus().length} cores, ${new Date().toISOString().slice(0, 10)}`);
  console.log(`${'side'.padEnd(34)} ${'n'.padStart(3)} ${'p50 ms'.padStart(8)} ${'max ms'.padStart(8)}`);
  console.log(row('docker stack deploy, first N/N', c));
  console.log(row('docker stack deploy, N/N held 5 s', h));
  console.log(row('fleetgraph deployStack (SUCCEEDED)', a));
  console.log(`ratio fleetgraph / CLI held 5 s (the same rule, p50): ${(a.p50 / h.p50).toFixed(2)} (target ≤ 1.2)`);
  console.log(`ratio fleetgraph / CLI first N/N (p50): ${(a.p50 / c.p50).toFixed(2)} (fleetgraph waits the 5 s update monitor on top)`);
  fs.rmSync(dir, { recursive: true, force: true });
  await t.stop();
  await swarmReset();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
