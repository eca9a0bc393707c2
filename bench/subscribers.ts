/**
 * Child process of bench/events.ts: `count` graphql-ws clients (one WebSocket each, like
 * browser tabs), each with one `dockerEvents(hostId)` subscription. Every delivery is stamped
 * on arrival; for container events of the current round's containers the latency from
 * Docker's timeNano is kept. Runs apart from the server so the server's event loop does not
 * pay for the clients' frame parsing (the two still share the machine's cores).
 */
import WebSocket from 'ws';
import { createClient, Client } from 'graphql-ws';
import { clockSkewMs, LoopLag, nanoToMs, serve, wallMs } from './common';

interface EventData {
  dockerEvents?: { type: string; timeNano: string; attributes?: Record<string, unknown> };
}

const clients: Client[] = [];
const lag = new LoopLag();
let prefix = '\u0000';
let latencies: number[] = [];
/** per subscriber: round events received */
let perSubscriber: number[] = [];
let messages = 0;
let firstAt = Infinity;
let lastAt = 0;
let errors = 0;
let completes = 0;
let lastError = '';

function resetRound(p: string): void {
  prefix = `${p}-`;
  latencies = [];
  perSubscriber = new Array(clients.length).fill(0);
  messages = 0;
  firstAt = Infinity;
  lastAt = 0;
  lag.reset();
}

async function connect(wsUrl: string, token: string, query: string, variables: Record<string, unknown>, count: number, batch: number): Promise<void> {
  const start = clients.length;
  for (let b = 0; b < count; b += batch) {
    const size = Math.min(batch, count - b);
    await Promise.all(
      Array.from({ length: size }, (_, k) => {
        const index = start + b + k;
        return new Promise<void>((resolve, reject) => {
          const client = createClient({
            url: wsUrl,
            webSocketImpl: WebSocket,
            connectionParams: { authorization: `Bearer ${token}` },
            lazy: false,
            retryAttempts: 0,
            keepAlive: 0,
            on: {
              connected: () => resolve(),
              closed: (e) => reject(new Error(`closed before ack: ${(e as { code?: number }).code}`)),
              error: (e) => reject(e instanceof Error ? e : new Error(String(e))),
            },
          });
          clients.push(client);
          perSubscriber[index] = 0;
          client.subscribe<EventData>(
            { query, variables },
            {
              next: (r) => {
                const at = wallMs();
                messages++;
                if (at < firstAt) firstAt = at;
                lastAt = at;
                const e = r.data?.dockerEvents;
                if (!e) {
                  errors++;
                  lastError = JSON.stringify(r.errors ?? r).slice(0, 300);
                  return;
                }
                const name = e.attributes?.name;
                if (e.type === 'container' && typeof name === 'string' && name.startsWith(prefix)) {
                  latencies.push(at - nanoToMs(e.timeNano));
                  perSubscriber[index]++;
                }
              },
              error: (err) => {
                errors++;
                lastError = String((err as Error)?.message ?? JSON.stringify(err)).slice(0, 300);
              },
              complete: () => {
                completes++;
              },
            },
          );
        });
      }),
    );
  }
}

serve(async (req) => {
  switch (req.cmd) {
    case 'connect':
      await connect(req.wsUrl as string, req.token as string, req.query as string, req.variables as Record<string, unknown>, req.count as number, (req.batch as number) ?? 50);
      return { connected: clients.length, skewMs: clockSkewMs() };
    case 'round':
      resetRound(req.prefix as string);
      return {};
    case 'progress': {
      let min = Infinity;
      for (const n of perSubscriber) if (n < min) min = n;
      return { samples: latencies.length, minPerSubscriber: clients.length ? min : 0, messages, lastAt, errors, completes, lastError };
    }
    case 'collect': {
      const l = lag.read();
      return { latencies, perSubscriber, messages, firstAt, lastAt, errors, completes, lastError, lagP99: l.p99, lagMax: l.max, skewMs: clockSkewMs() };
    }
    case 'close':
      await Promise.all(clients.splice(0).map((c) => c.dispose()));
      lag.stop();
      return {};
    default:
      throw new Error(`unknown command ${req.cmd}`);
  }
});
process.send?.({ id: 0, ok: true, ready: true });
