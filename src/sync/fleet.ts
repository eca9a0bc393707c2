import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Worker } from '../server/workers';
import { HostSupervisor, SyncDeps } from './supervisor';

/** How long a replica's claim on a host lasts without renewal. */
export const LEASE_SECONDS = 30;
const RECONCILE_MS = 10_000;

/**
 * Runs one HostSupervisor per host this replica holds a lease on. Leases live on the host row
 * (lease_owner, lease_expires_at) and are claimed or renewed in one statement every 10 s, so
 * with several replicas each host has exactly one supervisor, and a crashed replica's hosts
 * move to another within LEASE_SECONDS.
 */
export class HostFleet implements Worker {
  readonly name = 'host-fleet';
  readonly owner = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly supervisors = new Map<string, HostSupervisor>();
  private timer?: NodeJS.Timeout;
  private running = false;
  private reconciling: Promise<void> = Promise.resolve();

  constructor(private readonly deps: SyncDeps) {}

  async start(): Promise<void> {
    this.running = true;
    await this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), RECONCILE_MS);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    await this.reconciling;
    await Promise.all([...this.supervisors.values()].map((s) => s.stop()));
    const ids = [...this.supervisors.keys()];
    this.supervisors.clear();
    if (ids.length > 0) {
      await this.deps.orm.em
        .getConnection()
        .execute(`update docker_hosts set lease_owner = null, lease_expires_at = null where lease_owner = ? and id in (?)`, [this.owner, ids])
        .catch(() => undefined);
    }
  }

  /** The local supervisor of a host, if this replica runs it. */
  supervisor(hostId: string): HostSupervisor | undefined {
    return this.supervisors.get(hostId);
  }

  /** Called after a host was registered, changed or removed: reconcile now and wake its supervisor. */
  async notify(hostId: string): Promise<void> {
    if (!this.running) return;
    await this.reconcile();
    this.supervisors.get(hostId)?.poke();
  }

  reconcile(): Promise<void> {
    this.reconciling = this.reconciling.then(() => this.reconcileOnce()).catch((err) => this.deps.logger.error({ err }, 'host reconcile failed'));
    return this.reconciling;
  }

  private async reconcileOnce(): Promise<void> {
    if (!this.running) return;
    const held = (await this.deps.orm.em.getConnection().execute(
      `update docker_hosts set lease_owner = ?, lease_expires_at = now() + (? * interval '1 second')
        where lease_owner = ? or lease_owner is null or lease_expires_at < now()
        returning id, account_id`,
      [this.owner, LEASE_SECONDS, this.owner],
    )) as Array<{ id: string; account_id: string }>;
    const keep = new Set(held.map((h) => h.id));
    for (const [id, sup] of this.supervisors) {
      if (!keep.has(id)) {
        this.supervisors.delete(id);
        await sup.stop();
      }
    }
    for (const h of held) {
      if (this.supervisors.has(h.id) || !this.running) continue;
      const sup = new HostSupervisor(this.deps, h.id, h.account_id);
      this.supervisors.set(h.id, sup);
      sup.start();
    }
  }
}
