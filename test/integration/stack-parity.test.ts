/**
 * Parity with `docker stack deploy` (issue 10 item 3), on the real 3-node swarm: every corpus file
 * (test/fixtures/compose) is deployed with the CLI (`--resolve-image never`), its service,
 * network, secret and config specs read back through the Engine API and the stack removed; then
 * the same stack is created from loadStack's output by applyStack and read back the same way.
 * The two are compared field by field, ids, versions and timestamps left out (network ids in
 * service attachments are compared by network name). Every difference is listed per file.
 *
 * The nodes are drained first: no task is scheduled, so nothing has to start or stop and a
 * removed stack's networks can go at once; the specs Docker stores do not depend on it.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { Engine, clusterSubject } from '../../src/infra/engine/port';
import { loadStack } from '../../src/modules/stacks/compose';
import { applyStack } from '../../src/modules/stacks/apply';
import { swarmDocker, swarmNodes, swarmReset, swarmScript, swarmUpClean } from '../support/swarm';

const run = promisify(execFile);
const DIR = path.join(__dirname, '..', 'fixtures', 'compose');
const NS = 'com.docker.stack.namespace';
const corpus = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.yml'))
  .sort();

/** Variables given to both (the CLI reads them from its environment): the same for every file, env-interp's set ones among them. */
const HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'parity-home-'));
const VARIABLES: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME, GREETING: 'hi', STAGE: '', REPLICAS: '3', PASSED_THROUGH: 'yes', EMPTY: 'filled' };

/** The files the corpus names (`./files/…`), as a deploy sends them. */
function corpusFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(path.join(DIR, 'files'))) out[`./files/${f}`] = fs.readFileSync(path.join(DIR, 'files', f), 'utf8');
  return out;
}

type Json = unknown;
interface Snapshot {
  services: Record<string, Json>;
  networks: Record<string, Json>;
  secrets: Record<string, Json>;
  configs: Record<string, Json>;
}

/** Every path where two JSON values differ ("a.b[2].c: cli=… fleetgraph=…"). */
function diffJson(a: Json, b: Json, at = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObj = (v: Json) => v !== null && typeof v === 'object';
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: string[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) out.push(...diffJson(a[i], b[i], `${at}[${i}]`));
    return out;
  }
  if (isObj(a) && isObj(b) && !Array.isArray(a) && !Array.isArray(b)) {
    const x = a as Record<string, Json>;
    const y = b as Record<string, Json>;
    const out: string[] = [];
    for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) out.push(...diffJson(x[k], y[k], at ? `${at}.${k}` : k));
    return out;
  }
  return [`${at}: cli=${JSON.stringify(a)} fleetgraph=${JSON.stringify(b)}`];
}

describe('docker stack deploy parity on a real 3-node swarm', () => {
  let docker: Docker;
  let engine: Engine;
  let socket: string;
  const report: Record<string, string[]> = {};

  beforeAll(async () => {
    await swarmUpClean();
    await swarmScript('form');
    socket = (await swarmNodes())[1].socket;
    docker = new Docker({ socketPath: socket });
    engine = new Engine({ api: docker, stream: docker }, clusterSubject({ name: 'parity' }));
    for (const node of (await swarmDocker(1, 'node', 'ls', '-q')).split('\n')) await swarmDocker(1, 'node', 'update', '--availability', 'drain', node);
  }, 180_000);

  afterAll(async () => {
    // the whole list, for the report (a failing file fails its own test below)
    for (const [file, diffs] of Object.entries(report)) if (diffs.length) console.log(`${file}:\n  ${diffs.join('\n  ')}`);
    await swarmReset();
    fs.rmSync(HOME, { recursive: true, force: true });
  }, 120_000);

  /**
   * The stack's objects as Docker stores them, without ids, versions and timestamps, nor what
   * Docker's allocator chose (the VXLAN id, and subnet and gateway of a network the file gives
   * none: `allocated`). Waits until the manager has allocated every network (Driver set).
   */
  async function snapshot(stack: string, allocated: Set<string>): Promise<Snapshot> {
    const filters = { label: [`${NS}=${stack}`] };
    const networks = await docker.listNetworks({ filters });
    for (const n of networks) await allocatedNetwork(n.Id);
    const netName = new Map<string, string>();
    for (const n of await docker.listNetworks()) netName.set(n.Id, n.Name);
    const out: Snapshot = { services: {}, networks: {}, secrets: {}, configs: {} };
    for (const n of networks) {
      const full = (await docker.getNetwork(n.Id).inspect()) as Docker.NetworkInspectInfo;
      if (full.Options) delete full.Options['com.docker.network.driver.overlay.vxlanid_list'];
      if (allocated.has(full.Name)) for (const c of full.IPAM?.Config ?? []) Object.assign(c, { Subnet: '<allocated>', Gateway: '<allocated>' });
      const { Name, Scope, Driver, EnableIPv6, IPAM, Internal, Attachable, Ingress, ConfigOnly, Options, Labels } = full;
      out.networks[Name] = { Name, Scope, Driver, EnableIPv6, IPAM, Internal, Attachable, Ingress, ConfigOnly, Options, Labels };
    }
    for (const s of await docker.listServices({ filters })) {
      const spec = JSON.parse(JSON.stringify(s.Spec)) as {
        Name: string;
        TaskTemplate: { Networks?: Array<{ Target: string }>; ContainerSpec: { Secrets?: Array<Record<string, unknown>>; Configs?: Array<Record<string, unknown>> } };
      };
      for (const a of spec.TaskTemplate.Networks ?? []) a.Target = netName.get(a.Target) ?? `unknown:${a.Target}`;
      for (const r of spec.TaskTemplate.ContainerSpec.Secrets ?? []) delete r.SecretID;
      for (const r of spec.TaskTemplate.ContainerSpec.Configs ?? []) delete r.ConfigID;
      out.services[spec.Name] = spec;
    }
    for (const s of (await docker.listSecrets({ filters })) as Array<{ Spec: { Name: string } }>) out.secrets[s.Spec.Name] = s.Spec;
    for (const c of (await docker.listConfigs({ filters })) as Array<{ Spec: { Name: string } }>) out.configs[c.Spec.Name] = c.Spec;
    return out;
  }

  /** Waits until the manager's allocator has given a network its driver state. */
  async function allocatedNetwork(id: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!(await docker.getNetwork(id).inspect()).Driver) {
      if (Date.now() > deadline) throw new Error(`network ${id} not allocated`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Removes everything with the stack's label: services first, then (once no task holds them) networks, secrets, configs. */
  async function removeStack(stack: string): Promise<void> {
    const filters = { label: [`${NS}=${stack}`] };
    for (const s of await docker.listServices({ filters })) await docker.getService(s.ID).remove();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const left: string[] = [];
      for (const n of await docker.listNetworks({ filters }))
        await docker
          .getNetwork(n.Id)
          .remove()
          .catch(() => left.push(n.Name));
      for (const s of (await docker.listSecrets({ filters })) as Array<{ ID: string; Spec: { Name: string } }>)
        await docker
          .getSecret(s.ID)
          .remove()
          .catch(() => left.push(s.Spec.Name));
      for (const c of (await docker.listConfigs({ filters })) as Array<{ ID: string; Spec: { Name: string } }>)
        await docker
          .getConfig(c.ID)
          .remove()
          .catch(() => left.push(c.Spec.Name));
      if (left.length === 0) return;
      if (Date.now() > deadline) throw new Error(`could not remove ${left.join(', ')}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  it.each(corpus)(
    '%s: the specs fleetgraph creates equal those docker stack deploy creates',
    async (file) => {
      const stack = `p${file.replace(/\.yml$/, '').replace(/[^a-z0-9]/g, '')}`.slice(0, 20);
      const compose = fs.readFileSync(path.join(DIR, file), 'utf8');

      const converted = loadStack({ name: stack, compose, variables: VARIABLES, files: corpusFiles() });
      const allocated = new Set(converted.networks.filter((n) => !n.IPAM?.Config?.length).map((n) => n.Name));

      await run('docker', ['-H', `unix://${socket}`, 'stack', 'deploy', '--resolve-image', 'never', '-c', file, stack], { cwd: DIR, env: VARIABLES });
      const cli = await snapshot(stack, allocated);
      await removeStack(stack);

      await applyStack(engine, converted);
      const ours = await snapshot(stack, allocated);
      await removeStack(stack);

      // both sides hold every object the converter made (so an empty read-back cannot pass)
      for (const side of [cli, ours]) {
        expect(Object.keys(side.services).sort()).toEqual(converted.services.map((x) => x.Name).sort());
        expect(Object.keys(side.networks).sort()).toEqual(converted.networks.map((x) => x.Name).sort());
        expect(Object.keys(side.secrets).sort()).toEqual(converted.secrets.map((x) => x.Name).sort());
        expect(Object.keys(side.configs).sort()).toEqual(converted.configs.map((x) => x.Name).sort());
      }
      const diffs = diffJson(cli, ours);
      report[file] = diffs;
      expect(diffs).toEqual([]);
    },
    120_000,
  );
});
