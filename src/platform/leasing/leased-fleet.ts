import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Worker } from '../../kernel/worker';
import type { FleetPubSub } from '../../infra/pubsub';
import { Topic } from '../../infra/pubsub/topics';
import { leaseTiming, planLeases } from './lease-plan';

/** One supervised row's worker (a host's or a cluster's supervisor). */
export interface Supervised {
  start(): void;
  stop(): Promise<void>;
  poke(): void;
  /** Whether it stopped on its own (its store found the lease taken: fencing; or its row gone). */
  readonly isStopped: boolean;
}

export interface LeasedFleetOptions<S extends Supervised> {
  name: string;
  /** Table whose rows carry lease_owner / lease_expires_at (and account_id). */
  table: string;
  orm: MikroORM;
  logger: Logger;
  /** A supervisor for a row; `fence` is this replica's lease id, which its writes check (fencing). */
  create(id: string, accountId: string, fence: string): S;
  /** Where replicas announce leases they gave up (on stop), so the others take them at once. */
  pubsub?: Pick<FleetPubSub, 'emit' | 'subscribe'>;
  leaseSeconds?: number;
  reconcileMs?: number;
}

/**
 * Runs one supervisor per row this replica holds a lease on. Leases live on the row
 * (lease_owner, lease_expires_at) and are claimed or renewed in one statement per reconcile,
 * so with several replicas each row has exactly one supervisor, and a crashed replica's rows
 * move to another within the lease time. Hosts (src/modules/hosts/fleet.ts) and Swarm clusters use it.
 */
export class LeasedFleet<S extends Supervised> implements Worker {
  readonly name: string;
  readonly owner = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly supervisors = new Map<string, S>();
  private timer?: NodeJS.Timeout;
  private running = false;
  private reconciling: Promise<void> = Promise.resolve();
  private handoffs?: AsyncIterator<unknown>;

  constructor(private readonly opts: LeasedFleetOptions<S>) {
    this.name = opts.name;
  }

  async start(): Promise<void> {
    this.running = true;
    this.listenForHandoffs();
    await this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), leaseTiming(this.opts).reconcileMs);
  }

  /** Another replica released its leases (it is stopping): claim them now rather than at the next reconcile. */
  private listenForHandoffs(): void {
    if (!this.opts.pubsub) return;
    const iterator = this.opts.pubsub.subscribe(Topic.LEASES_RELEASED, this.opts.table)[Symbol.asyncIterator]();
    this.handoffs = iterator;
    void (async () => {
      for (;;) {
        const r = await iterator.next();
        if (r.done || !this.running) return;
        if ((r.value as { owner?: string }).owner !== this.owner) void this.reconcile();
      }
    })().catch((err) => this.opts.logger.warn({ err, fleet: this.name }, 'lease hand-off listener ended'));
  }

  /**
   * Stops every supervisor (each stores what it read first), then releases their leases and tells
   * the other replicas, which take them over at once: a SIGTERM hands the fleet over in about the
   * time one reconcile takes, with no gap (the next reader resumes from the last stored event).
   */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    void this.handoffs?.return?.();
    await this.reconciling;
    await Promise.all([...this.supervisors.values()].map((s) => s.stop()));
    const ids = [...this.supervisors.keys()];
    this.supervisors.clear();
    if (ids.length > 0) {
      await this.opts.orm.em
        .getConnection()
        .execute(`update ${this.opts.table} set lease_owner = null, lease_expires_at = null where lease_owner = ? and id in (?)`, [this.owner, ids])
        .catch(() => undefined);
      await this.opts.pubsub?.emit(Topic.LEASES_RELEASED, { owner: this.owner, released: ids.length }, this.opts.table);
    }
  }

  get isRunning(): boolean {
    return this.running;
  }

  supervisor(id: string): S | undefined {
    return this.supervisors.get(id);
  }

  /** Called after a row was created, changed or removed: reconcile now and wake its supervisor. */
  async notify(id: string): Promise<void> {
    if (!this.running) return;
    await this.reconcile();
    this.supervisors.get(id)?.poke();
  }

  reconcile(): Promise<void> {
    this.reconciling = this.reconciling.then(() => this.reconcileOnce()).catch((err) => this.opts.logger.error({ err, fleet: this.name }, 'reconcile failed'));
    return this.reconciling;
  }

  private async reconcileOnce(): Promise<void> {
    if (!this.running) return;
    // a supervisor that stopped on its own is not one: if the lease is (again) this replica's, a
    // new one starts below, else the row would stay leased here with nobody reading it
    for (const [id, sup] of this.supervisors) {
      if (!sup.isStopped) continue;
      this.supervisors.delete(id);
      await sup.stop();
    }
    const held = (await this.opts.orm.em.getConnection().execute(
      `update ${this.opts.table} set lease_owner = ?, lease_expires_at = now() + (? * interval '1 second')
        where lease_owner = ? or lease_owner is null or lease_expires_at < now()
        returning id, account_id`,
      [this.owner, leaseTiming(this.opts).leaseSeconds, this.owner],
    )) as Array<{ id: string; account_id: string }>;
    const plan = planLeases(
      held.map((h) => ({ id: h.id, accountId: h.account_id })),
      this.supervisors.keys(),
    );
    for (const id of plan.stop) {
      const sup = this.supervisors.get(id);
      if (!sup) continue;
      this.supervisors.delete(id);
      await sup.stop();
    }
    for (const h of plan.start) {
      if (this.supervisors.has(h.id) || !this.running) continue;
      const sup = this.opts.create(h.id, h.accountId, this.owner);
      this.supervisors.set(h.id, sup);
      sup.start();
    }
  }
}
