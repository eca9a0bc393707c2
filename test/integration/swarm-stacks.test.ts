import { randomUUID } from 'node:crypto';
import { startTestApp, TestApp } from '../support/app';
import { deploymentEnded, formSwarmViaApi, ok, registerSwarmHosts, swarmDocker, swarmReset, swarmUpClean } from '../support/swarm';

/**
 * deployStack on a real 3-node swarm: a stack deployed from a compose file with a secret and a
 * config sent with it (the CLI sees the services, networks, secrets and configs with the stack's
 * label, the deployment SUCCEEDED once every task runs, the converter's warnings kept), and bad input of every kind
 * refused before the first Docker call — nothing with the stack's label exists afterwards.
 */
const DEPLOY = `mutation($input: DeployStackInput!) { deployStack(input: $input) { stack { name } deployment { id revision status warnings } } }`;
const NS = 'com.docker.stack.namespace';

interface DeployResult {
  deployStack: { stack: { name: string }; deployment: { id: string; revision: number; status: string; warnings: string[] } };
}
type DeploymentResult = { deployment: { status: string; error: string | null; diff: { created: string[]; updated: Array<{ service: string }> } | null } };

const GOOD = `
services:
  web:
    image: local/busybox:1
    command: ['sleep', '3600']
    build: .
    secrets: [db_password]
    configs: [app_config]
    environment:
      GREETING: \${GREETING:-hello}
    deploy:
      endpoint_mode: dnsrr
      replicas: 2
  worker:
    image: local/busybox:1
    command: ['sleep', '3600']
    stop_grace_period: 1s
    networks: [back]
    deploy:
      endpoint_mode: dnsrr
networks:
  back: {}
secrets:
  db_password:
    file: ./db_password.txt
configs:
  app_config:
    file: ./app.conf
`;

describe('deployStack on a real 3-node swarm', () => {
  let t: TestApp;
  let token: string;
  let clusterId: string;
  const account = `stacks-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    await swarmUpClean();
    t = await startTestApp({ config: { workers: true, sync: { retryBaseMs: 300 } } });
    token = await t.token({ account, permissions: ['docker.hosts.manage', 'swarm.clusters.manage', 'swarm.stacks.deploy'] });
    const hosts = await registerSwarmHosts(t, token, 'st');
    clusterId = await formSwarmViaApi(t, token, hosts, 'st-swarm', { 2: 'WORKER', 3: 'WORKER' });
  }, 180_000);

  afterAll(async () => {
    await t?.stop();
    await swarmReset();
  }, 120_000);

  /** Names of everything on the swarm with the stack's label, by kind (what `docker stack rm` would remove). */
  async function labelled(stack: string): Promise<Record<string, string[]>> {
    const filter = `label=${NS}=${stack}`;
    const names = async (...args: string[]) => (await swarmDocker(1, ...args, '--filter', filter, '--format', '{{.Name}}')).split('\n').filter(Boolean).sort();
    return { services: await names('service', 'ls'), networks: await names('network', 'ls'), secrets: await names('secret', 'ls'), configs: await names('config', 'ls') };
  }

  /** The input deploying GOOD as stack "shop", with its variable and its config file's content. */
  const shop = (greeting: string, config: string) => ({
    clusterId,
    name: 'shop',
    compose: GOOD,
    variables: [{ name: 'GREETING', value: greeting }],
    files: [
      { path: './db_password.txt', content: 's3cret' },
      { path: 'app.conf', content: config },
    ],
  });

  /** The deployment once it ended (SUCCEEDED, FAILED, …). */
  const finished = (id: string) => deploymentEnded<DeploymentResult['deployment']>(t, token, id, 'status error diff { created updated { service } }', 90_000);

  it('creates the stack as docker stack deploy would, as revision 1 that ends SUCCEEDED once the CLI sees every task, and returns the warnings', async () => {
    const input = shop('hi', 'key=value\n');
    const res = ok(await t.gql<DeployResult, { input: typeof input }>(DEPLOY, { input }, token)).deployStack;
    expect(res.stack.name).toBe('shop');
    // queued as a job, which an idle worker of this replica takes at once
    expect(res.deployment.revision).toBe(1);
    expect(['PENDING', 'IN_PROGRESS']).toContain(res.deployment.status);
    expect(res.deployment.warnings.some((w) => /Ignoring unsupported options: build/.test(w))).toBe(true);
    const first = await finished(res.deployment.id);
    expect(first).toMatchObject({ status: 'SUCCEEDED', error: null });
    expect(first.diff?.created).toEqual(['shop_web', 'shop_worker']);
    expect(await labelled('shop')).toEqual({ services: ['shop_web', 'shop_worker'], networks: ['shop_back', 'shop_default'], secrets: ['shop_db_password'], configs: ['shop_app_config'] });
    const env = JSON.parse(await swarmDocker(1, 'service', 'inspect', 'shop_web', '--format', '{{json .Spec.TaskTemplate.ContainerSpec.Env}}')) as string[];
    expect(env).toEqual(['GREETING=hi']);
    const secret = await swarmDocker(1, 'service', 'inspect', 'shop_web', '--format', '{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{.SecretName}}:{{.File.Name}}{{end}}');
    expect(secret).toBe('shop_db_password:db_password');
    // SUCCEEDED means the CLI sees every task running (the secret and config were resolved by id)
    const replicas = await swarmDocker(1, 'service', 'ls', '--filter', `label=${NS}=shop`, '--format', '{{.Name}} {{.Replicas}}');
    expect(replicas.split('\n').sort().join(',')).toBe('shop_web 2/2,shop_worker 1/1');

    // deployed again with the same files: revision 2, services updated in place, nothing duplicated
    const again = ok(await t.gql<DeployResult, { input: typeof input }>(DEPLOY, { input }, token)).deployStack;
    expect(again.deployment.revision).toBe(2);
    const second = await finished(again.deployment.id);
    expect(second.status).toBe('SUCCEEDED');
    expect(second.diff?.created).toEqual([]);
    expect(await labelled('shop')).toEqual({ services: ['shop_web', 'shop_worker'], networks: ['shop_back', 'shop_default'], secrets: ['shop_db_password'], configs: ['shop_app_config'] });
  }, 120_000);

  it("a member without swarm permissions sees the services but neither the stack's variable values nor its file contents", async () => {
    const reader = await t.token({ account, permissions: [] });
    const Q = `query($c: ID!) { swarmCluster(id: $c) { services(first: 20) { nodes { name spec previousSpec inspect } } } }`;
    type Env = { TaskTemplate: { ContainerSpec: { Env: string[] } } };
    const seen = await t.gql<{ swarmCluster: { services: { nodes: Array<{ name: string; spec: Env; inspect: { Spec: Env } }> } } }, { c: string }>(Q, { c: clusterId }, reader);
    expect(seen.errors).toBeUndefined();
    const web = seen.data!.swarmCluster.services.nodes.find((n) => n.name === 'shop_web')!;
    expect(web.spec.TaskTemplate.ContainerSpec.Env).toEqual(['GREETING=[redacted]']);
    // the live inspect of a row of the nested page (read through the row's cluster) is redacted the same way
    expect(web.inspect.Spec.TaskTemplate.ContainerSpec.Env).toEqual(['GREETING=[redacted]']);
    expect(JSON.stringify(seen.data)).not.toContain('GREETING=hi');
    // the deployer sees them
    const full = await t.gql<{ swarmCluster: { services: { nodes: Array<{ name: string; spec: unknown }> } } }, { c: string }>(Q, { c: clusterId }, token);
    expect(JSON.stringify(full.data)).toContain('GREETING=hi');
    // the compose file and the configs made from the stack's files
    const compose = await t.gql(`query { stacks(first: 5) { nodes { name deployments(first: 5) { nodes { compose } } } } }`, {}, reader);
    expect(compose.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', permission: 'swarm.stacks.deploy' });
    const configs = await t.gql(`query($c: ID!) { swarmCluster(id: $c) { configs(first: 20) { nodes { name data } } } }`, { c: clusterId }, reader);
    expect(configs.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect(JSON.stringify(configs.data ?? null)).not.toContain('key=value');
  });

  it("live reads of the rows of a cluster's nested pages (inspect, tasks) reach the cluster's manager", async () => {
    const Q = `query($c: ID!) { swarmCluster(id: $c) {
      nodes(first: 3) { nodes { hostname inspect } }
      services(first: 5) { nodes { name inspect tasks { desiredState node { hostname } } } }
      networks { name inspect }
      secrets(first: 5) { nodes { name inspect } }
      configs(first: 5) { nodes { name inspect } } } }`;
    type Named = { name: string; inspect: { Spec: { Name: string } } };
    const res = await t.gql<
      {
        swarmCluster: {
          nodes: { nodes: Array<{ hostname: string; inspect: { Description: { Hostname: string } } }> };
          services: { nodes: Array<Named & { tasks: Array<{ desiredState: string; node: { hostname: string } | null }> }> };
          networks: Array<{ name: string; inspect: { Name: string } }>;
          secrets: { nodes: Named[] };
          configs: { nodes: Named[] };
        };
      },
      { c: string }
    >(Q, { c: clusterId }, token);
    expect(res.errors).toBeUndefined();
    const c = res.data!.swarmCluster;
    expect(c.nodes.nodes).toHaveLength(3);
    for (const n of c.nodes.nodes) expect(n.inspect.Description.Hostname).toBe(n.hostname);
    const web = c.services.nodes.find((s) => s.name === 'shop_web')!;
    expect(web.inspect.Spec.Name).toBe('shop_web');
    expect(web.tasks.filter((task) => task.desiredState === 'running')).toHaveLength(2);
    expect(c.networks.find((n) => n.name === 'shop_back')?.inspect.Name).toBe('shop_back');
    expect(c.secrets.nodes.find((s) => s.name === 'shop_db_password')?.inspect.Spec.Name).toBe('shop_db_password');
    expect(c.configs.nodes.find((s) => s.name === 'shop_app_config')?.inspect.Spec.Name).toBe('shop_app_config');
  });

  it('refuses a config whose content changed (Docker cannot change a config) before anything changes, naming it', async () => {
    const input = shop('changed', 'key=other\n');
    const res = await t.gql(DEPLOY, { input }, token);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'configs.app_config' });
    // nothing recorded, nothing changed on the swarm
    const env = JSON.parse(await swarmDocker(1, 'service', 'inspect', 'shop_web', '--format', '{{json .Spec.TaskTemplate.ContainerSpec.Env}}')) as string[];
    expect(env).toEqual(['GREETING=hi']);
  });

  const refused: Array<[string, string, string, string, Array<{ path: string; content: string }>]> = [
    ['invalid YAML', 'services: [web', 'BAD_USER_INPUT', 'compose', []],
    ['a schema violation', 'services:\n  web:\n    image: local/busybox:1\n    deploy:\n      replicas: many\n', 'BAD_USER_INPUT', 'services.web.deploy.replicas', []],
    ['a required variable missing', 'services:\n  web:\n    image: local/busybox:${TAG:?TAG is required}\n', 'BAD_USER_INPUT', 'services.web.image', []],
    ['an undefined network', 'services:\n  web:\n    image: local/busybox:1\n    networks: [nowhere]\n', 'BAD_USER_INPUT', 'services.web.networks', []],
    ['an undefined secret', 'services:\n  web:\n    image: local/busybox:1\n    secrets: [nope]\n', 'BAD_USER_INPUT', 'services.web.secrets', []],
    ['a missing external secret', 'services:\n  web:\n    image: local/busybox:1\n    secrets: [ext]\nsecrets:\n  ext:\n    external: true\n', 'BAD_USER_INPUT', 'secrets.ext', []],
    ['a secret file not sent', 'services:\n  web:\n    image: local/busybox:1\n    secrets: [s]\nsecrets:\n  s:\n    file: ./missing.txt\n', 'BAD_USER_INPUT', 'secrets.s', []],
    [
      'a bind mount of /etc on the second service (host-access policy)',
      'services:\n  a:\n    image: local/busybox:1\n  b:\n    image: local/busybox:1\n    volumes: ["/etc:/host-etc"]\nnetworks:\n  extra: {}\nsecrets:\n  s:\n    file: ./s.txt\n',
      'FORBIDDEN',
      'services.b.TaskTemplate.ContainerSpec.Mounts[0]',
      [{ path: './s.txt', content: 'x' }],
    ],
    [
      'a stack network with the host driver (host-access policy)',
      'services:\n  a:\n    image: local/busybox:1\n    networks: [h]\nnetworks:\n  h:\n    driver: host\n',
      'FORBIDDEN',
      // the network itself is judged like createNetwork's, before any service
      '_h.driver',
      [],
    ],
    [
      // the manager would route 169.254.169.254 into that bridge: a container on it could answer as the cloud metadata service
      'a stack network on the link-local range (host-access policy)',
      'services:\n  a:\n    image: local/busybox:1\n    networks: [n]\nnetworks:\n  n:\n    driver: bridge\n    ipam:\n      config:\n        - subnet: 169.254.169.252/30\n',
      'FORBIDDEN',
      '_n.ipam.config[0].subnet',
      [],
    ],
    ['a service image on a loopback registry (host-access policy)', 'services:\n  a:\n    image: 127.0.0.1:5000/internal/app:1\n', 'FORBIDDEN', 'services.a.TaskTemplate.ContainerSpec.Image', []],
    ['more replicas than MAX_SERVICE_REPLICAS', 'services:\n  a:\n    image: local/busybox:1\n    deploy:\n      replicas: 1000000000\n', 'BAD_USER_INPUT', 'services.a.deploy.replicas', []],
  ];

  it.each(refused)('refuses %s naming the path, and creates nothing', async (_what, compose, code, field, files) => {
    const name = `bad${randomUUID().slice(0, 6)}`;
    const res = await t.gql(DEPLOY, { input: { clusterId, name, compose, files } }, token);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code });
    expect(String(res.errors?.[0]?.extensions?.field)).toContain(field);
    expect(await labelled(name)).toEqual({ services: [], networks: [], secrets: [], configs: [] });
  });

  it('a stack network that exists already (made with the permission) is judged as the manager has it, not as the file claims', async () => {
    const name = `mv${randomUUID().slice(0, 6)}`;
    // a swarm-scoped macvlan network carrying the stack's label: the deploy would join it, not create one
    await swarmDocker(1, 'network', 'create', '-d', 'macvlan', '--scope', 'swarm', '-o', 'parent=eth0', '--label', `com.docker.stack.namespace=${name}`, `${name}_n`);
    try {
      const compose = 'services:\n  a:\n    image: local/busybox:1\n    networks: [n]\nnetworks:\n  n:\n    driver: overlay\n';
      const res = await t.gql(DEPLOY, { input: { clusterId, name, compose } }, token);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', field: 'services.a.TaskTemplate.Networks[0].Target' });
      expect(res.errors?.[0]?.message).toMatch(/macvlan/);
      expect((await labelled(name)).services).toEqual([]);
    } finally {
      await swarmDocker(1, 'network', 'rm', `${name}_n`).catch(() => undefined);
    }
  });

  it('needs the permission swarm.stacks.deploy', async () => {
    const other = await t.token({ account, permissions: ['swarm.clusters.manage'] });
    const res = await t.gql(DEPLOY, { input: { clusterId, name: 'noperm', compose: 'services:\n  web:\n    image: local/busybox:1\n' } }, other);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', permission: 'swarm.stacks.deploy' });
    expect(await labelled('noperm')).toEqual({ services: [], networks: [], secrets: [], configs: [] });
  });
});
