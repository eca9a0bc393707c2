import type { MikroORM } from '@mikro-orm/postgresql';
import { Client, ClientConfig } from 'pg';

/** How long one statement on the session may take before the connection is dropped and made again. */
const STATEMENT_TIMEOUT_MS = 10_000;

/**
 * One PostgreSQL connection of its own, outside the ORM's pool, for the statements that must not
 * wait behind request and ingest work (lease renewals), and whose backend is the process's
 * presence: when the process dies its socket closes, PostgreSQL ends the backend at once, and the
 * other replicas see it gone (pg_stat_activity) without waiting for a lease to expire.
 *
 * It connects on first use and again after any failure (a PostgreSQL restart, a dropped
 * connection): a statement that fails leaves the session disconnected, the next one reconnects.
 * Statements run one at a time in call order.
 */
export class DedicatedSession {
  private current?: { client: Client; ready: Promise<Client> };
  private chain: Promise<unknown> = Promise.resolve();

  /**
   * @param onConnect the first statement on every new connection, before any other (a fleet
   * records the new backend in its presence, so that no one takes it for dead); a failure drops it
   */
  constructor(
    private readonly config: ClientConfig,
    private readonly onConnect?: (client: Client) => Promise<unknown>,
  ) {}

  /** A session with the ORM's connection settings (host, port, user, password, database). */
  static forOrm(orm: MikroORM, applicationName: string, onConnect?: (client: Client) => Promise<unknown>): DedicatedSession {
    // the pool's settings, with the connection options it is given (driverOptions.connection: e.g. jit off)
    const driver = (orm.config.get('driverOptions') ?? {}) as { connection?: ClientConfig };
    const opts = { ...(orm.em.getConnection().getConnectionOptions() as ClientConfig), ...driver.connection };
    return new DedicatedSession(
      { ...opts, application_name: applicationName, statement_timeout: STATEMENT_TIMEOUT_MS, query_timeout: STATEMENT_TIMEOUT_MS + 1_000, connectionTimeoutMillis: 5_000 },
      onConnect,
    );
  }

  /** Runs one statement (after those called before it); the rows it returned. */
  query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const run = this.chain.then(() => this.run<T>(sql, params));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Closes the connection (a later statement opens a new one: a fleet stopped and started again); waits 2 s at most. */
  async close(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    if (!current) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([current.client.end().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, 2_000)))]);
    clearTimeout(timer);
  }

  private async run<T>(sql: string, params: unknown[]): Promise<T[]> {
    const client = await this.connection();
    try {
      return (await client.query(sql, params)).rows as T[];
    } catch (err) {
      // an error from the server (SQLSTATE, a statement timeout too) leaves a healthy connection;
      // one without (the connection broke, or the client gave up waiting) is made again
      if (!(err as { code?: string }).code) this.drop(client);
      throw err;
    }
  }

  private connection(): Promise<Client> {
    if (!this.current) {
      const client = new Client(this.config);
      // an error between statements (the server went away) drops it: the next statement reconnects
      client.on('error', () => this.drop(client));
      client.on('end', () => this.drop(client));
      const ready = client
        .connect()
        .then(() => this.onConnect?.(client))
        .then(() => client);
      this.current = { client, ready };
      ready.catch(() => this.drop(client));
    }
    return this.current.ready;
  }

  private drop(client: Client): void {
    if (this.current?.client === client) this.current = undefined;
    client.end().catch(() => undefined);
  }
}
