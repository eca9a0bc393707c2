import { redact, REDACTED } from '../../src/audit/redact';

describe('redact (audit parameters and log objects)', () => {
  it('redacts every build arg and driver option value, keeping the keys', () => {
    expect(redact({ buildArgs: { NPM_TOKEN: 'npm_abc', VERSION: '1.2' }, driverOpts: { type: 'none', o: 'bind', device: '/' } })).toEqual({
      buildArgs: { NPM_TOKEN: REDACTED, VERSION: REDACTED },
      driverOpts: { type: REDACTED, o: REDACTED, device: REDACTED },
    });
  });

  it('keeps only argv[0] of commands, entrypoints, service args and healthchecks', () => {
    expect(redact({ id: 'x', command: ['sh', '-c', 'curl -H "Authorization: Bearer s3cr3t" …'] })).toEqual({ id: 'x', command: ['sh', REDACTED, REDACTED] });
    expect(redact({ spec: { entrypoint: ['/bin/app', '--password=hunter2'], args: ['--key', 'k'], healthcheck: { test: ['CMD-SHELL', 'check hunter2'] } } })).toEqual({
      spec: { entrypoint: ['/bin/app', REDACTED], args: ['--key', REDACTED], healthcheck: { test: ['CMD-SHELL', REDACTED] } },
    });
  });

  it('redacts any key named like a secret, at any depth and in any casing', () => {
    const out = redact({
      dbPassword: 'a',
      NPM_TOKEN: 'b',
      nested: { deeper: [{ apiKey: 'c', Private_Key: 'd', clientSecret: 'e', passphrase: 'f', registryAuth: { username: 'u' }, sslCert: 'g', credentials: 'h' }] },
      tlsCredentials: { ca: 'x' },
      value: 'secret value',
      data: 'config data',
    });
    expect(JSON.stringify(out)).not.toMatch(/"[a-h]"|secret value|config data|"u"|"x"/);
    expect(out).toMatchObject({ dbPassword: REDACTED, NPM_TOKEN: REDACTED, tlsCredentials: REDACTED, value: REDACTED, data: REDACTED });
  });

  it('keeps env names, labels, names and other settings readable', () => {
    expect(redact({ name: 'web', labels: { team: 'core', tier: 'front' }, env: ['DB_PASSWORD=hunter2', 'MODE=x', 'PASSTHROUGH'], replicas: 3, readOnly: false })).toEqual({
      name: 'web',
      labels: { team: 'core', tier: 'front' },
      env: ['DB_PASSWORD=[redacted]', 'MODE=[redacted]', 'PASSTHROUGH'],
      replicas: 3,
      readOnly: false,
    });
  });

  it('redacts passwords in URLs and replaces blobs by their size', () => {
    expect(redact({ serverAddress: 'https://bob:hunter2@registry.example/v2', endpoint: 'tcp://10.0.0.1:2376', contextTarBase64: 'A'.repeat(400) })).toEqual({
      serverAddress: `https://bob:${REDACTED}@registry.example/v2`,
      endpoint: 'tcp://10.0.0.1:2376',
      contextTarBase64: '[300 bytes]',
    });
  });

  it('passes errors and dates through, bounds depth, drops undefined', () => {
    const err = new Error('boom');
    const when = new Date(0);
    expect(redact({ err, when, gone: undefined })).toEqual({ err, when });
    let deep: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 20; i++) deep = { d: deep };
    expect(JSON.stringify(redact(deep))).toContain(REDACTED);
  });
});
