import dns from 'node:dns';
import net from 'node:net';
import { withTimeout } from '../kernel/abort';

/** How long a name may take to resolve, whichever resolver answers. */
export const RESOLVE_TIMEOUT_MS = 5000;

/** DNS answers that say the name has no such record: the system's resolver may still know it (/etc/hosts, search domains). */
const ABSENT = new Set<string>([dns.NOTFOUND, dns.NODATA]);

/**
 * Every address of a host name (an IP literal is its own). Asked of DNS first through c-ares,
 * which waits on its own sockets; the system's resolver (getaddrinfo: /etc/hosts, search domains)
 * only when DNS answered that the name has no address. getaddrinfo runs on libuv's four shared
 * threads: a name whose name server never answers, given by a client (an engine endpoint, a
 * callback URL), would hold one for tens of seconds per lookup and stall every file, crypto and
 * lookup call of the process behind it. A DNS failure or timeout is an error, never a fallback.
 */
export async function resolveHost(host: string, dnsResolver: Pick<dns.promises.Resolver, 'resolve4' | 'resolve6'> = dns.promises): Promise<dns.LookupAddress[]> {
  const family = net.isIP(host);
  if (family) return [{ address: host, family }];
  // c-ares retries on its own sockets; past RESOLVE_TIMEOUT_MS nobody waits for it any more
  const asked = Promise.allSettled([dnsResolver.resolve4(host), dnsResolver.resolve6(host)]);
  const [v4, v6] = await withTimeout(asked, RESOLVE_TIMEOUT_MS).catch(() => {
    throw Object.assign(new Error(`${host} did not resolve within ${RESOLVE_TIMEOUT_MS} ms`), { code: 'ENOTFOUND' });
  });
  const found = [...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []), ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : [])];
  if (found.length > 0) return found;
  const failures = [v4, v6].flatMap((r) => (r.status === 'rejected' ? [String((r.reason as { code?: unknown }).code)] : []));
  if (!failures.every((code) => ABSENT.has(code))) throw Object.assign(new Error(`${host} did not resolve (${failures.join(', ')})`), { code: 'ENOTFOUND' });
  return withTimeout(dns.promises.lookup(host, { all: true, verbatim: true }), RESOLVE_TIMEOUT_MS);
}
