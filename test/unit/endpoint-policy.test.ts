import { loadConfig } from '../../src/app/config';
import { classifyAddress, EndpointPolicy, loadEndpointAllowList, parseAddress, parseEndpointAllowList } from '../../src/kernel/addresses';

/**
 * The endpoint policy's address classifier and allow-list, as pure functions: nothing here
 * connects anywhere (private, link-local and public ranges are only classified).
 */
describe('classifyAddress', () => {
  it.each([
    // loopback
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    // link-local (169.254.169.254 is the cloud metadata service)
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    // private: RFC 1918, IPv6 unique-local
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    // CGNAT
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    // unspecified
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    // multicast, broadcast
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    // every other special-purpose range
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['64:ff9b::7f00:1', 'reserved'], // NAT64 of 127.0.0.1
    ['2002:7f00:1::', 'reserved'], // 6to4 of 127.0.0.1
    ['2001::1', 'reserved'], // Teredo
    ['::7f00:1', 'reserved'], // IPv4-compatible 127.0.0.1
    ['::ffff:0:7f00:1', 'reserved'], // IPv4-translated
    // public
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['172.32.0.1', 'public'],
    ['100.128.0.1', 'public'],
    ['11.0.0.1', 'public'],
    ['2606:4700:4700::1111', 'public'],
  ])('%s is %s', (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
  });

  it.each([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:192.168.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
  ])('IPv4-mapped %s is classified as the IPv4 address (%s)', (address, cls) => {
    expect(parseAddress(address)?.kind()).toBe('ipv4');
    expect(classifyAddress(address)).toBe(cls);
  });

  it.each([
    ['2130706433', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0x7f.0.0.1', '127.0.0.1'],
    ['017700000001', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['3232235777', '192.168.1.1'],
    ['0xa9fea9fe', '169.254.169.254'],
    ['0xa9.0xfe.0xa9.0xfe', '169.254.169.254'],
    ['012.1', '10.0.0.1'],
  ])('the odd IPv4 notation %s is normalised to %s first', (text, dotted) => {
    expect(parseAddress(text)?.toString()).toBe(dotted);
    expect(classifyAddress(text)).toBe(classifyAddress(dotted));
    expect(classifyAddress(text)).not.toBe('public');
  });

  it.each(['localhost', 'docker.example.com', '', '127.0.0.1.', '1.2.3.4:80', '[::1'])('%j is not an address (a name: resolved and checked at connect time)', (text) => {
    expect(parseAddress(text)).toBeNull();
    expect(classifyAddress(text)).toBeNull();
  });
});

describe('the endpoint allow-list', () => {
  const policy = new EndpointPolicy(
    parseEndpointAllowList(' 10.0.0.0/8 , 192.168.1.5, 127.0.0.1:23760, [fd00::/8]:2376, ::1, 169.254.1.0/24:2375, unix:/var/run/docker.sock, unix:///run/engines/, ::ffff:172.16.0.9 '),
  );

  it('allows public addresses on any port, without being listed', () => {
    expect(policy.allowsAddress('8.8.8.8', 2375)).toBe(true);
    expect(policy.allowsAddress('2606:4700:4700::1111', 2376)).toBe(true);
  });

  it('allows listed ranges and addresses, on their port when one is given', () => {
    expect(policy.allowsAddress('10.20.30.40', 2375)).toBe(true);
    expect(policy.allowsAddress('192.168.1.5', 1)).toBe(true);
    expect(policy.allowsAddress('192.168.1.6', 2375)).toBe(false);
    expect(policy.allowsAddress('127.0.0.1', 23760)).toBe(true);
    expect(policy.allowsAddress('127.0.0.1', 2375)).toBe(false);
    expect(policy.allowsAddress('127.0.0.2', 23760)).toBe(false);
    expect(policy.allowsAddress('fd00::5', 2376)).toBe(true);
    expect(policy.allowsAddress('fd00::5', 2375)).toBe(false);
    expect(policy.allowsAddress('::1', 9)).toBe(true);
    expect(policy.allowsAddress('169.254.1.7', 2375)).toBe(true);
    expect(policy.allowsAddress('169.254.169.254', 80)).toBe(false);
    // a listed IPv4-mapped address is the IPv4 address
    expect(policy.allowsAddress('172.16.0.9', 2375)).toBe(true);
  });

  it('matches the normalised address: mapped and odd notations of a listed address are that address, of an unlisted one refused', () => {
    expect(policy.allowsAddress('::ffff:127.0.0.1', 23760)).toBe(true);
    expect(policy.allowsAddress('::ffff:10.1.1.1', 2375)).toBe(true);
    expect(policy.allowsAddress('2130706433', 23760)).toBe(true);
    expect(policy.allowsAddress('2130706433', 2375)).toBe(false);
    expect(policy.allowsAddress('0x7f.1', 2375)).toBe(false);
    expect(policy.allowsAddress('::ffff:169.254.169.254', 80)).toBe(false);
    expect(policy.allowsAddress('not-an-address', 2375)).toBe(false);
  });

  it('refuses every non-public class when the list is empty', () => {
    const none = new EndpointPolicy(parseEndpointAllowList(''));
    for (const a of [
      '127.0.0.1',
      '::1',
      '10.0.0.1',
      '172.16.0.1',
      '192.168.0.1',
      '169.254.169.254',
      'fe80::1',
      '100.64.0.1',
      '0.0.0.0',
      '::',
      '224.0.0.1',
      '240.0.0.1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '2130706433',
    ]) {
      expect([a, none.allowsAddress(a, 2375)]).toEqual([a, false]);
    }
    expect(none.allowsSocket('/var/run/docker.sock')).toBe(false);
  });

  it('allows listed sockets exactly and sockets below listed directories; no traversal, no look-alikes', () => {
    expect(policy.allowsSocket('/var/run/docker.sock')).toBe(true);
    expect(policy.allowsSocket('/run/engines/a.sock')).toBe(true);
    expect(policy.allowsSocket('/run/engines/x/b.sock')).toBe(true);
    expect(policy.allowsSocket('/var/run/docker.sock2')).toBe(false);
    expect(policy.allowsSocket('/var/run/docker.sock/x')).toBe(false);
    expect(policy.allowsSocket('/run/engines')).toBe(false);
    expect(policy.allowsSocket('/run/engines-evil/a.sock')).toBe(false);
    expect(policy.allowsSocket('/run/engines/../docker.sock')).toBe(false);
    expect(policy.allowsSocket('/run/engines//a.sock')).toBe(false);
    expect(policy.allowsSocket('/run/engines/./a.sock')).toBe(false);
    expect(policy.allowsSocket('/run/engines/a.sock\u0000')).toBe(false);
    expect(policy.allowsSocket('run/engines/a.sock')).toBe(false);
  });

  it.each(['localhost', 'docker.example.com:2376', '10.0.0.0/33', '10.0.0.1:0', '10.0.0.1:70000', '[::1]:x', 'unix:relative.sock', 'unix:/a/../b.sock', 'unix:/', 'unix:', '999.1.1.1'])(
    'a malformed entry %j is refused at startup',
    (entry) => {
      expect(() => parseEndpointAllowList(entry)).toThrow(/FLEETGRAPH_ENDPOINT_ALLOW/);
      expect(() => loadConfig({ NODE_ENV: 'production', FLEETGRAPH_JWT_SECRET: 'x'.repeat(40), FLEETGRAPH_ENDPOINT_ALLOW: entry })).toThrow(/FLEETGRAPH_ENDPOINT_ALLOW/);
    },
  );

  it('defaults: nothing in production, the local Docker socket in development; "none" is nothing', () => {
    expect(loadEndpointAllowList(undefined, true)).toEqual({ addresses: [], sockets: [], socketDirs: [] });
    expect(loadEndpointAllowList('', true)).toEqual({ addresses: [], sockets: [], socketDirs: [] });
    expect(loadEndpointAllowList(undefined, false)).toEqual({ addresses: [], sockets: ['/var/run/docker.sock'], socketDirs: [] });
    expect(loadEndpointAllowList('none', false)).toEqual({ addresses: [], sockets: [], socketDirs: [] });
    const prod = loadConfig({ NODE_ENV: 'production', FLEETGRAPH_JWT_SECRET: 'x'.repeat(40) });
    expect(new EndpointPolicy(prod.endpointAllow).allowsSocket('/var/run/docker.sock')).toBe(false);
    const dev = loadConfig({ NODE_ENV: 'development' });
    expect(new EndpointPolicy(dev.endpointAllow).allowsSocket('/var/run/docker.sock')).toBe(true);
    expect(new EndpointPolicy(dev.endpointAllow).allowsAddress('127.0.0.1', 2375)).toBe(false);
  });
});
