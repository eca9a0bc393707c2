import dgram from 'node:dgram';
import dns from 'node:dns';
import { resolveHost } from '../../src/infra/dns';

/**
 * A name server on 127.0.0.1: `silent` never answers (a black-holed zone), otherwise every query
 * is answered NXDOMAIN (the name does not exist in DNS).
 */
async function nameServer(mode: 'silent' | 'nxdomain'): Promise<{ port: number; queries: () => number; close: () => Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  let queries = 0;
  socket.on('message', (msg, from) => {
    queries++;
    if (mode === 'silent') return;
    // same id and question; flags: response, recursion desired and available, rcode 3 (NXDOMAIN)
    const answer = Buffer.from(msg);
    answer.writeUInt16BE(0x8183, 2);
    answer.writeUInt16BE(0, 6);
    answer.writeUInt16BE(0, 8);
    answer.writeUInt16BE(0, 10);
    socket.send(answer.subarray(0, msg.length), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, queries: () => queries, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

function resolverAt(port: number): dns.promises.Resolver {
  const r = new dns.promises.Resolver({ timeout: 300, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  return r;
}

describe('resolveHost: client-given names never wait on the shared thread pool for a silent name server', () => {
  it('IP literals are their own address, no query', async () => {
    const silent = await nameServer('silent');
    try {
      expect(await resolveHost('127.0.0.1', resolverAt(silent.port))).toEqual([{ address: '127.0.0.1', family: 4 }]);
      expect(await resolveHost('::1', resolverAt(silent.port))).toEqual([{ address: '::1', family: 6 }]);
      expect(silent.queries()).toBe(0);
    } finally {
      await silent.close();
    }
  });

  it('a name whose server never answers fails (ENOTFOUND) once the resolver gives up, without asking getaddrinfo (even localhost, which /etc/hosts has)', async () => {
    const silent = await nameServer('silent');
    try {
      const r = resolverAt(silent.port);
      // more lookups than libuv has threads (4): through getaddrinfo they would hold every one
      const names = [...Array.from({ length: 7 }, (_, i) => `host${i}.black-hole.test`), 'localhost'];
      const outcomes = await Promise.all(
        names.map((name) =>
          resolveHost(name, r).then(
            () => 'resolved',
            (err: { code?: string }) => err.code,
          ),
        ),
      );
      expect(outcomes).toEqual(Array(names.length).fill('ENOTFOUND'));
      expect(silent.queries()).toBeGreaterThanOrEqual(names.length);
    } finally {
      await silent.close();
    }
  });

  it('a name DNS says does not exist is asked of the system resolver (/etc/hosts): localhost resolves', async () => {
    const nx = await nameServer('nxdomain');
    try {
      const addresses = await resolveHost('localhost', resolverAt(nx.port));
      expect(nx.queries()).toBeGreaterThanOrEqual(1);
      expect(addresses.map((a) => a.address)).toContain('127.0.0.1');
    } finally {
      await nx.close();
    }
  });
});
