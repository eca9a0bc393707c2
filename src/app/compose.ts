import type { MikroORM } from '@mikro-orm/postgresql';
import type { GraphQLSchema } from 'graphql';
import type { Config } from '../kernel/config';
import type { Logger } from '../kernel/logger';
import { Workers } from '../kernel/worker';
import { initOrm, migrate } from '../infra/db/orm';
import { startEmbeddedPostgres, EmbeddedDatabase } from '../infra/db/embedded';
import { createPubSub, FleetPubSub } from '../infra/pubsub';
import { createSecretBox, SecretBox } from '../infra/crypto';
import { DockerConnections } from '../infra/engine/connections';
import { EMPTY_ALLOW_LIST, EndpointPolicy } from '../kernel/addresses';
import { Audit } from '../platform/audit/activity';
import { HostAccessGuard } from '../platform/policy/enforce';
import { AccountDirectory } from '../modules/accounts';
import { createHostsModule, HostsModule } from '../modules/hosts';
import { createDockerResourcesModule, DockerResourcesModule } from '../modules/docker-resources';
import { createSwarmModule, SwarmModule } from '../modules/swarm';
import { createInstancesModule, InstancesModule } from '../modules/instances';
import { createStacksModule, StacksModule } from '../modules/stacks';
import { createJobQueue, JobQueue } from '../infra/jobs';
import { createVaultClient } from '../infra/vault';
import type { ContextDeps } from '../graphql/context';
import { createTokenVerifier, TokenVerifier } from '../server/auth';
import { Metrics } from '../server/metrics';
import { createResolvers } from '../../resolvers';
import { buildFleetSchema } from './schema';

/** Everything the process is made of, built once by `compose` (the only place that constructs services). */
export interface Composition {
  config: Config;
  logger: Logger;
  orm: MikroORM;
  pubsub: FleetPubSub;
  metrics: Metrics;
  secrets: SecretBox;
  connections: DockerConnections;
  audit: Audit;
  accounts: AccountDirectory;
  verifyToken: TokenVerifier;
  hosts: HostsModule;
  resources: DockerResourcesModule;
  swarm: SwarmModule;
  /** Container templates and instances (src/modules/instances). */
  instances: InstancesModule;
  /** Compose stacks on swarms (src/modules/stacks). */
  stacks: StacksModule;
  /** Durable jobs in PostgreSQL (pg-boss). */
  jobs: JobQueue;
  workers: Workers;
  schema: GraphQLSchema;
  /** What each request's Context is built from. */
  context: ContextDeps;
  /** Closes the stores (after the server and the workers have stopped). */
  close(): Promise<void>;
}

/**
 * The composition root: infra (database, pub/sub, engine connections), platform (audit, the
 * host-access guard), the modules with their workers, the resolvers with their services, and
 * the schema. Applies migrations. Nothing else constructs a service.
 */
export async function compose(config: Config, logger: Logger): Promise<Composition> {
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres(config.dataDir, logger);
    databaseUrl = embedded.url;
  }
  const orm = await initOrm(databaseUrl, { logger: (message) => logger.debug({ orm: message }, 'mikro-orm'), colors: false }, config.limits.statementTimeoutMs);
  await migrate(orm, databaseUrl, logger);
  const pubsub = createPubSub(config.redisUrl, logger);
  const metrics = new Metrics();
  const secrets = createSecretBox(config);
  const connections = new DockerConnections(secrets, new EndpointPolicy(config.endpointAllow));
  const audit = new Audit(pubsub);
  const guard = new HostAccessGuard(config.hostAccess.bindRoots);
  const accounts = new AccountDirectory(orm);
  const verifyToken = createTokenVerifier(config.jwt);

  const supervision = { orm, pubsub, logger, connections, secrets, audit, retryBaseMs: config.sync.retryBaseMs };
  const hosts = createHostsModule(supervision);
  const resources = createDockerResourcesModule({ hosts: hosts.hosts, audit, guard });
  const swarm = createSwarmModule({ ...supervision, guard, hosts: hosts.hosts });
  const jobs = createJobQueue({ databaseUrl }, logger);
  const stacks = createStacksModule({ orm, pubsub, logger, connections, audit, guard, swarm, jobs, secrets });

  const instances = createInstancesModule({
    orm,
    pubsub,
    logger,
    audit,
    guard,
    hosts: hosts.hosts,
    secrets,
    jobs,
    callbackPolicy: new EndpointPolicy(config.callbackAllow ?? EMPTY_ALLOW_LIST),
    vault: config.vault ? createVaultClient(config.vault) : undefined,
    vaultAddr: config.vault?.addr,
    vaultAccountPolicies: config.vault?.accountPolicies,
    options: config.instances,
    quotaCeiling: config.instanceQuotaMax,
  });

  const workers = new Workers(logger);
  for (const w of [...hosts.workers, ...swarm.workers]) workers.add(w);
  // the job queue before the workers that queue jobs (the instances reaper, the deployment sweep)
  for (const w of [jobs, ...instances.workers, ...stacks.workers]) workers.add(w);

  const schema = await buildFleetSchema(pubsub, createResolvers({ hosts, resources, swarm, instances, stacks }));
  const context: ContextDeps = { orm, logger, pubsub, verifyToken, resolveMembership: (p) => accounts.resolve(p) };
  return {
    config,
    logger,
    orm,
    pubsub,
    metrics,
    secrets,
    connections,
    audit,
    accounts,
    verifyToken,
    hosts,
    resources,
    swarm,
    instances,
    stacks,
    jobs,
    workers,
    schema,
    context,
    close: async () => {
      await jobs.stop().catch((err) => logger.warn({ err }, 'job queue close'));
      await pubsub.close().catch((err) => logger.warn({ err }, 'pubsub close'));
      await orm.close(true);
      await embedded?.stop();
    },
  };
}
