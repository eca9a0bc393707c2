import { setMaxListeners } from 'node:events';
import {
  DocumentNode,
  getOperationAST,
  GraphQLError,
  GraphQLFormattedError,
  GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  OperationDefinitionNode,
  specifiedRules,
  validate,
  ValidationRule,
} from 'graphql';
import type { Config } from '../kernel/config';
import { AppError, ErrorCode, formatError } from '../kernel/errors';
import { timedOut } from '../kernel/abort';
import type { Logger } from '../kernel/logger';
import { admitOperation, OperationRequest, withCode } from './limits';
import { Metrics } from './metrics';

export type GateResult = { document: DocumentNode } | { errors: readonly GraphQLError[] };

/** A query's or mutation's deadline: `signal` aborts with TIMEOUT at requestTimeoutMs, or when `end` is called. */
export interface Deadline {
  signal: AbortSignal;
  end(): void;
}

/**
 * The one operation gate of both transports (Apollo over HTTP, graphql-ws over WebSocket), so
 * WebSocket behaves as HTTP by construction:
 *
 * - `admit`: parse with the token cap, then the limits walk (depth, aliases, directives,
 *   repeated fields, cost; src/server/limits.ts). Refusals are counted in metrics.
 * - `operation`: the operation a request names (as Apollo resolves it).
 * - `rules` / `validate`: the validation rules (graphql's, plus no introspection in production);
 *   Apollo is given the same `extraRules`.
 * - `deadline`: the per-operation deadline (requestTimeoutMs).
 * - `format`: client-facing errors (masked in production; unexpected ones logged).
 * - `observe`: operation counts and durations by name, type, transport and outcome.
 */
export class OperationGate {
  /** Rules Apollo adds to graphql's specified rules (its `validationRules`). */
  readonly extraRules: ValidationRule[];
  readonly rules: readonly ValidationRule[];

  constructor(
    readonly schema: GraphQLSchema,
    private readonly config: Config,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.extraRules = config.production ? [NoSchemaIntrospectionCustomRule] : [];
    this.rules = [...specifiedRules, ...this.extraRules];
  }

  /** Parse and limits. */
  admit(request: OperationRequest): GateResult {
    const admitted = admitOperation(this.schema, request, this.config.limits);
    if ('errors' in admitted) return { errors: [this.refused(admitted.errors[0])] };
    return admitted;
  }

  /** Validation with the rules Apollo runs (errors carry GRAPHQL_VALIDATION_FAILED, as Apollo gives them). */
  validate(document: DocumentNode): readonly GraphQLError[] {
    return validate(this.schema, document, this.rules).map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
  }

  /** The operation to run, or OPERATION_RESOLUTION_FAILURE with Apollo's message (a name the document does not define, or several operations and no name). */
  operation(document: DocumentNode, operationName: string | null | undefined): { operation: OperationDefinitionNode } | { errors: readonly GraphQLError[] } {
    const operation = getOperationAST(document, operationName);
    if (operation) return { operation };
    const message = operationName ? `Unknown operation named "${operationName}".` : 'Must provide operation name if query contains multiple operations.';
    return { errors: [new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })] };
  }

  /** Counts a refusal (by its limit) and hands it back. */
  refused<E extends { extensions?: Record<string, unknown> }>(error: E): E {
    this.metrics.refused(error);
    return error;
  }

  /** Starts a query's or mutation's deadline; `onTimeout` runs once if it passes first. */
  deadline(onTimeout?: (error: AppError) => void): Deadline {
    const ms = this.config.limits.requestTimeoutMs;
    const controller = new AbortController();
    // every live read of the operation and each of its Docker requests listens (and stops listening when done);
    // the operation's cost limit bounds how many there are
    setMaxListeners(0, controller.signal);
    const timer = setTimeout(() => {
      const error = this.refused(timedOut(ms));
      controller.abort(error);
      onTimeout?.(error);
    }, ms);
    return {
      signal: controller.signal,
      end: () => {
        clearTimeout(timer);
        if (!controller.signal.aborted) controller.abort(new AppError(ErrorCode.TIMEOUT, 'The request ended'));
      },
    };
  }

  /** The client-facing form of an error (Apollo's formatError hook, and WebSocket): an unexpected one is logged. */
  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
    const out = formatError(formatted, this.config.production, error);
    const code = out.extensions?.code;
    if (code === ErrorCode.INTERNAL_SERVER_ERROR || code === ErrorCode.SERVICE_UNAVAILABLE) this.logger.error({ err: (error as GraphQLError)?.originalError ?? error }, 'unexpected error');
    return out;
  }

  format(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
    return errors.map((e) => this.formatError(e.toJSON(), e));
  }

  /** Records one operation: transport, outcome and (when it ran to its end) duration. */
  observe(transport: 'http' | 'ws', operationName: string | null | undefined, type: string, outcome: 'ok' | 'error' | 'started', seconds?: number): void {
    const operation = Metrics.label(operationName);
    this.metrics.operations.inc({ operation, type, transport, outcome });
    if (seconds !== undefined) this.metrics.duration.observe({ operation, type }, seconds);
  }
}
