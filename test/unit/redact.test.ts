import { redact, REDACTED, replaceUserinfo, URL_USERINFO } from '../../src/kernel/redact';

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
      serverAddress: `https://${REDACTED}@registry.example/v2`,
      endpoint: 'tcp://10.0.0.1:2376',
      contextTarBase64: '[300 bytes]',
    });
  });

  it('redacts the whole userinfo of a URL: a lone token, a password with / or @', () => {
    for (const [url, expected] of [
      ['https://ghp_TOKEN123@github.com/org/repo.git', `https://${REDACTED}@github.com/org/repo.git`],
      ['https://u:p/ss@h.example/x', `https://${REDACTED}@h.example/x`],
      ['https://u:p@ss@h.example', `https://${REDACTED}@h.example`],
      ['see redis://:s3cret@10.0.0.1:6379 now', `see redis://${REDACTED}@10.0.0.1:6379 now`],
    ]) {
      expect(redact({ url })).toEqual({ url: expected });
      expect(JSON.stringify(redact({ url }))).not.toMatch(/TOKEN123|p\/ss|p@ss|s3cret/);
    }
  });

  it('keeps argv[0] only when it is a program name', () => {
    expect(redact({ command: ['PGPASSWORD=x psql', '-c', 'select'] })).toEqual({ command: [REDACTED, REDACTED, REDACTED] });
    expect(redact({ command: ['/usr/bin/env', 'X=1'] })).toEqual({ command: ['/usr/bin/env', REDACTED] });
  });

  it('turns errors into plain objects with their own fields redacted; dates pass; bounds depth; drops undefined', () => {
    const err = Object.assign(new Error('pull https://bob:pw@reg.example failed'), { json: { message: 'denied' }, authconfig: { password: 'pw' } });
    const when = new Date(0);
    const out = redact({ err, when, gone: undefined }) as { err: Record<string, unknown>; when: Date };
    expect(out.when).toBe(when);
    expect(out.err).toMatchObject({ type: 'Error', message: `pull https://${REDACTED}@reg.example failed`, json: { message: 'denied' }, authconfig: REDACTED });
    expect(JSON.stringify(out)).not.toContain('pw@');
    let deep: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 20; i++) deep = { d: deep };
    expect(JSON.stringify(redact(deep))).toContain(REDACTED);
  });
});

describe('URL userinfo: matched by hand, in linear time', () => {
  const viaRegex = (s: string) => s.replace(URL_USERINFO, '$1[x]@');
  const viaMatcher = (s: string) => replaceUserinfo(s, (scheme) => `${scheme}[x]`);

  it('replaces what the regular expression replaces, on 20,000 strings made of its characters', () => {
    const alphabet = ['a', 'B', '1', '+', '.', '-', ':', '/', '@', ' ', '\n', '_', 'x'];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 20_000; n++) {
      let s = '';
      for (let i = 1 + Math.floor(random() * 18); i > 0; i--) s += alphabet[Math.floor(random() * alphabet.length)];
      if (random() < 0.5) s = s.slice(0, Math.floor(random() * s.length)) + 'h://' + s.slice(Math.floor(random() * s.length));
      expect([s, viaMatcher(s)]).toEqual([s, viaRegex(s)]);
    }
  });

  it('a 1 MiB string of scheme characters and one "@" is read in one pass (the regular expression backtracked for minutes)', () => {
    const s = '@' + 'a.'.repeat(512 * 1024) + '://x@y';
    expect(viaMatcher(s)).toBe('@' + 'a.'.repeat(512 * 1024) + '://[x]@y');
  });
});
