import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one server instance (own registry, so several can live in one process). */
export class Metrics {
  readonly registry = new Registry();
  readonly operations = new Counter({
    name: 'fleetgraph_graphql_operations_total',
    help: 'GraphQL operations by name, type, transport and outcome',
    labelNames: ['operation', 'type', 'transport', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'fleetgraph_graphql_operation_duration_seconds',
    help: 'GraphQL operation duration by name and type (HTTP)',
    labelNames: ['operation', 'type'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly wsConnections = new Gauge({
    name: 'fleetgraph_ws_connections',
    help: 'Open graphql-ws connections',
    registers: [this.registry],
  });
  readonly refusals = new Counter({
    name: 'fleetgraph_refusals_total',
    help: 'Requests refused by a limit: tokens, depth, aliases, directives, fieldRepeats, cost, liveFieldInSubscription, deadline, rate, connections, subscriptions, sendBuffer',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });
  readonly wsSubscriptions = new Gauge({
    name: 'fleetgraph_ws_subscriptions',
    help: 'Active GraphQL subscriptions',
    registers: [this.registry],
  });

  /** Set by the WebSocket server: distinct subscription executions shared by their subscribers. */
  sharedExecutions: () => number = () => 0;
  readonly wsSharedExecutions = (() => {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const metrics = this;
    return new Gauge({
      name: 'fleetgraph_ws_shared_executions',
      help: 'Distinct subscription executions; subscribers asking the same live feed share one',
      registers: [this.registry],
      collect() {
        this.set(metrics.sharedExecutions());
      },
    });
  })();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Counts a refusal by the limit it names (`extensions.limit`); other errors are not refusals. */
  refused(error: { extensions?: Record<string, unknown> }): void {
    const limit = error.extensions?.limit;
    if (typeof limit === 'string') this.refusals.inc({ limit });
  }

  /**
   * Operation names are client-chosen: keep label cardinality bounded. The first
   * MAX_OPERATION_LABELS distinct names are kept (a deployment's clients use a fixed set); any name
   * after that counts as `other`, so a client inventing a name per request cannot grow the
   * registry (each name is a series per outcome and a histogram).
   */
  static label(name: string | null | undefined): string {
    if (!name) return 'anonymous';
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) return 'invalid';
    if (operationLabels.has(name)) return name;
    if (operationLabels.size >= MAX_OPERATION_LABELS) return 'other';
    operationLabels.add(name);
    return name;
  }
}

/** Distinct operation names kept as metric labels, per process. */
export const MAX_OPERATION_LABELS = 500;
const operationLabels = new Set<string>();
