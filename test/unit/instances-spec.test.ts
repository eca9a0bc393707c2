/**
 * Pure rules of container instances: template overrides, the container body (token delivery,
 * limits, labels), the callback signature and the callback allow-list (fails closed).
 */
import { createHmac } from 'node:crypto';
import { ContainerTemplate, VaultTokenDelivery } from '../../entities';
import { EMPTY_ALLOW_LIST, EndpointPolicy, parseEndpointAllowList } from '../../src/kernel/addresses';
import { containerHostAccess, hostAccessRefusals } from '../../src/platform/policy/host-access';
import { CallbackSender, checkCallbackUrl, signCallback } from '../../src/modules/instances/callbacks';
import { checkEnv, createBody, fromDirect, fromTemplate, MIB } from '../../src/modules/instances/spec';

function template(extra: Partial<ContainerTemplate> = {}): ContainerTemplate {
  return Object.assign(new ContainerTemplate(), {
    name: 'tpl',
    image: 'local/busybox:1',
    command: ['echo', 'hi'],
    env: ['A=1', 'B=2'],
    secretEnvNames: [],
    memoryMb: 64,
    cpuMillicores: 500,
    pidsLimit: 50,
    timeoutSeconds: 60,
    vaultPolicies: ['p1'],
    tokenDelivery: VaultTokenDelivery.TMPFS_FILE,
    labels: { team: 'x' },
    outputLimitBytes: 1000,
    allowedOverrides: ['env'],
    ...extra,
  });
}

describe('instance spec', () => {
  it('applies only the overrides the template allows', () => {
    const run = fromTemplate(template(), { env: ['B=3', 'C=4'] });
    expect(run.spec.env).toEqual(['A=1', 'B=3', 'C=4']);
    expect(() => fromTemplate(template(), { command: ['sh'] })).toThrow(/does not allow overriding command/);
    expect(() => fromTemplate(template({ allowedOverrides: ['memoryMb'] }), { memoryMb: 1 })).toThrow(/memoryMb/);
  });

  it('refuses env names fleetgraph sets and fleetgraph labels', () => {
    expect(() => fromDirect({ image: 'x', env: ['VAULT_TOKEN=abc'] })).toThrow(/is reserved/);
    expect(() => fromDirect({ image: 'x', labels: { 'fleetgraph.instance': 'y' } })).toThrow(/fleetgraph/);
    for (const name of ['VAULT_SKIP_VERIFY', 'VAULT_CACERT', 'vault_addr', 'HTTPS_PROXY', 'http_proxy', 'ALL_PROXY', 'FLEETGRAPH_ANYTHING']) {
      expect(() => checkEnv([`${name}=x`], 'env')).toThrow(/is reserved/);
    }
    expect(checkEnv(['VAULTED=x', 'MY_PROXY=y'], 'env')).toEqual(['VAULTED=x', 'MY_PROXY=y']);
  });

  it('TMPFS_FILE: a tmpfs, the wait wrapper around the image entrypoint and command, no token in the body', () => {
    const run = fromTemplate(template(), {});
    const body = createBody({
      instanceId: 'i1',
      accountId: 'a1',
      name: 'n',
      spec: run.spec,
      memoryMb: 64,
      cpuMillicores: 500,
      secretEnv: ['S=secret'],
      image: { entrypoint: ['/entry'], cmd: null },
      withToken: true,
      vaultAddr: 'http://vault:8200',
    });
    expect(body.Entrypoint?.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(body.Cmd).toEqual(['/entry', 'echo', 'hi']);
    expect(body.HostConfig).toMatchObject({ Memory: 64 * MIB, MemorySwap: 64 * MIB, NanoCpus: 500_000_000, PidsLimit: 50, Tmpfs: { '/run/fleetgraph': expect.stringContaining('size=') } });
    expect(body.Env).toEqual(['A=1', 'B=2', 'S=secret', 'VAULT_ADDR=http://vault:8200', 'FLEETGRAPH_VAULT_TOKEN_FILE=/run/fleetgraph/vault-token']);
    expect(body.Labels).toMatchObject({ team: 'x', 'fleetgraph.instance': 'i1', 'fleetgraph.account': 'a1' });
    // the body an instance makes passes the host-access policy without privileges
    expect(hostAccessRefusals(containerHostAccess(body), [])).toEqual([]);
  });

  it('ENV delivery: VAULT_TOKEN in the environment, the command untouched', () => {
    const run = fromTemplate(template({ tokenDelivery: VaultTokenDelivery.ENV }), {});
    const body = createBody({
      instanceId: 'i1',
      accountId: 'a1',
      name: 'n',
      spec: run.spec,
      memoryMb: 64,
      cpuMillicores: 500,
      secretEnv: [],
      image: { entrypoint: null, cmd: null },
      envToken: 'hvs.x',
      withToken: true,
    });
    expect(body.Entrypoint).toBeUndefined();
    expect(body.Cmd).toEqual(['echo', 'hi']);
    expect(body.Env).toContain('VAULT_TOKEN=hvs.x');
    expect(body.HostConfig?.Tmpfs).toBeUndefined();
  });
});

describe('task callbacks', () => {
  it('signs "<timestamp>.<body>" with HMAC-SHA256', () => {
    const expected = createHmac('sha256', 'k').update('1700000000.{"a":1}').digest('hex');
    expect(signCallback('k', 1700000000, '{"a":1}')).toBe(`sha256=${expected}`);
  });

  it('accepts http(s) URLs without credentials only', () => {
    expect(() => checkCallbackUrl('ftp://x/')).toThrow(/http or https/);
    expect(() => checkCallbackUrl('https://u:p@x/')).toThrow(/credentials/);
    expect(() => checkCallbackUrl('not a url')).toThrow(/not a URL/);
    expect(checkCallbackUrl('https://example.com/hook').hostname).toBe('example.com');
  });

  it.each(['http://127.0.0.1/', 'http://localhost/', 'http://10.0.0.1/', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/', 'http://0x7f.1/', 'http://[::ffff:10.0.0.1]/'])(
    'refuses %s without an allow-list entry (fails closed)',
    async (url) => {
      await expect(new CallbackSender(new EndpointPolicy(EMPTY_ALLOW_LIST)).resolveAllowed(new URL(url))).rejects.toThrow(/may not reach/);
    },
  );

  it('allows a listed loopback address, and a public one', async () => {
    await expect(new CallbackSender(new EndpointPolicy(parseEndpointAllowList('127.0.0.1'))).resolveAllowed(new URL('http://127.0.0.1:9/'))).resolves.toMatchObject({ address: '127.0.0.1' });
    await expect(new CallbackSender(new EndpointPolicy(EMPTY_ALLOW_LIST)).resolveAllowed(new URL('http://93.184.215.14/'))).resolves.toMatchObject({ address: '93.184.215.14' });
  });

  it('a refused delivery is an outcome, not a throw, and sends nothing', async () => {
    const r = await new CallbackSender(new EndpointPolicy(EMPTY_ALLOW_LIST)).deliver('http://127.0.0.1:9/', 'k', '{}');
    expect(r).toMatchObject({ delivered: false, statusCode: null });
    expect(r.error).toMatch(/may not reach/);
  });
});
