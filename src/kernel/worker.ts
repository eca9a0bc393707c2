import type { Logger } from './logger';

/** A background job started with the server and stopped on shutdown. */
export interface Worker {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Background workers (host and cluster supervisors register here), started in order and stopped together. */
export class Workers {
  private readonly list: Worker[] = [];
  constructor(private readonly logger: Logger) {}

  add(worker: Worker): void {
    this.list.push(worker);
  }

  async start(): Promise<void> {
    for (const w of this.list) {
      await w.start();
      this.logger.info({ worker: w.name }, 'worker started');
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.list.map((w) => w.stop().catch((err) => this.logger.warn({ err, worker: w.name }, 'worker stop failed'))));
  }
}
