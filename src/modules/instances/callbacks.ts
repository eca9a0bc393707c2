import { createHmac, randomBytes } from 'node:crypto';
import type dns from 'node:dns';
import { resolveHost } from '../../infra/dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { badInput } from '../../kernel/errors';
import { EndpointPolicy } from '../../kernel/addresses';

/**
 * Task callbacks (A2A): the signed POST of an instance's result to the URL it carries.
 *
 * Signature (README "Task callbacks"): headers `X-Fleetgraph-Timestamp: <unix seconds>` and
 * `X-Fleetgraph-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`, with the
 * account's callback secret. Receivers recompute it over the raw body, compare in constant time,
 * and refuse timestamps older than a few minutes (replays).
 *
 * SSRF: fleetgraph must not be a way into networks only it can reach. A callback goes only to an
 * address the callback allow-list accepts: public unicast addresses, plus what the operator lists
 * in FLEETGRAPH_CALLBACK_ALLOW (same syntax as FLEETGRAPH_ENDPOINT_ALLOW, addresses only). The
 * name is resolved once per attempt, EVERY address it resolves to must be allowed, and the
 * connection goes to the address that was checked (no second lookup a rebinding DNS could
 * answer differently). Redirects are not followed. Everything else fails closed.
 */

export const SIGNATURE_HEADER = 'x-fleetgraph-signature';
export const TIMESTAMP_HEADER = 'x-fleetgraph-timestamp';
const MAX_URL_LENGTH = 2000;
const TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 64 * 1024;

/** A new callback secret: 32 random bytes, base64url. */
export function newCallbackSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The signature header value of a body sent at `timestamp` (unix seconds). */
export function signCallback(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** A callback URL as given: http(s), no credentials, no fragment; BAD_USER_INPUT otherwise. */
export function checkCallbackUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badInput('callbackUrl', 'is not a URL');
  }
  if (text.length > MAX_URL_LENGTH) throw badInput('callbackUrl', `at most ${MAX_URL_LENGTH} characters`);
  if (!['http:', 'https:'].includes(url.protocol)) throw badInput('callbackUrl', 'must be http or https');
  if (url.username || url.password) throw badInput('callbackUrl', 'must not carry credentials');
  if (url.hash) throw badInput('callbackUrl', 'must not have a fragment');
  return url;
}

export interface DeliveryResult {
  delivered: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** Sends signed callbacks to allowed addresses only. */
export class CallbackSender {
  constructor(private readonly policy: EndpointPolicy) {}

  /**
   * Resolves the URL's host and returns the one address to connect to, or throws BAD_USER_INPUT
   * when any address it resolves to is not allowed (fail closed: no partial answers).
   */
  async resolveAllowed(url: URL): Promise<{ address: string; family: number }> {
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let addresses: dns.LookupAddress[];
    try {
      addresses = await resolveHost(host);
    } catch {
      throw badInput('callbackUrl', 'its host name does not resolve');
    }
    if (addresses.length === 0) throw badInput('callbackUrl', 'its host name does not resolve');
    for (const a of addresses) {
      if (!this.policy.allowsAddress(a.address, port))
        throw badInput('callbackUrl', 'points to an address callbacks may not reach (public addresses only, unless listed in FLEETGRAPH_CALLBACK_ALLOW)');
    }
    return addresses[0];
  }

  /** One signed POST; never throws (the outcome says what happened). */
  async deliver(urlText: string, secret: string, body: string): Promise<DeliveryResult> {
    const started = Date.now();
    const done = (delivered: boolean, statusCode: number | null, error: string | null): DeliveryResult => ({ delivered, statusCode, error, durationMs: Date.now() - started });
    let url: URL;
    let target: { address: string; family: number };
    try {
      url = checkCallbackUrl(urlText);
      target = await this.resolveAllowed(url);
    } catch (err) {
      return done(false, null, (err as Error).message.slice(0, 500));
    }
    const timestamp = Math.floor(Date.now() / 1000);
    // the connection goes to the checked address, whatever the name resolves to now
    const lookup: LookupFunction = (_host, options, callback) => {
      if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, [target]);
      else callback(null, target.address, target.family);
    };
    const client = url.protocol === 'https:' ? https : http;
    return new Promise<DeliveryResult>((resolve) => {
      const req = client.request(
        url,
        {
          method: 'POST',
          lookup,
          timeout: TIMEOUT_MS,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'user-agent': 'fleetgraph-callbacks/1',
            [TIMESTAMP_HEADER]: String(timestamp),
            [SIGNATURE_HEADER]: signCallback(secret, timestamp, body),
          },
        },
        (res) => {
          let seen = 0;
          res.on('data', (chunk: Buffer) => {
            seen += chunk.length;
            if (seen > MAX_RESPONSE_BYTES) res.destroy();
          });
          const status = res.statusCode ?? 0;
          const finish = () => resolve(done(status >= 200 && status < 300, status, status >= 200 && status < 300 ? null : `HTTP ${status}`));
          res.on('end', finish);
          res.on('close', finish);
          res.on('error', finish);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
      // a whole-attempt deadline: `timeout` above is per idle socket, and a receiver trickling a byte
      // every few seconds would otherwise hold the attempt (and a queue slot) for ever
      const deadline = setTimeout(() => {
        req.destroy(new Error(`no complete answer within ${TIMEOUT_MS} ms`));
        resolve(done(false, null, `no complete answer within ${TIMEOUT_MS} ms`));
      }, TIMEOUT_MS);
      req.on('close', () => clearTimeout(deadline));
      req.on('error', (err) => resolve(done(false, null, (err as NodeJS.ErrnoException).code ?? err.message.slice(0, 200))));
      req.end(body);
    });
  }
}
