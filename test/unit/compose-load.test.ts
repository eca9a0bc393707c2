/**
 * The compose loader's own rules: YAML (anchors, merge keys, limits), interpolation as compose-go's
 * template package defines it, env files as compose-go's dotenv reads them, x- fields, and every
 * refusal: BAD_USER_INPUT naming the path, before anything could reach Docker.
 */
import { AppError, ErrorCode } from '../../src/kernel/errors';
import { loadStack, MAX_ALIAS_COUNT, MAX_COMPOSE_BYTES, MAX_SECRET_BYTES, type LoadStackInput } from '../../src/modules/stacks/compose';
import { parseEnvFile } from '../../src/modules/stacks/compose/envfile';
import { expressions, substitute } from '../../src/modules/stacks/compose/interpolate';
import { parseCompose } from '../../src/modules/stacks/compose/load';
import { parseBytes, parseCpus, parseDuration, shlexSplit } from '../../src/modules/stacks/compose/parse';

const IMAGE = 'local/busybox:1';

function stack(compose: string, extra: Partial<LoadStackInput> = {}) {
  return loadStack({ name: 'st', compose, ...extra });
}

/** The BAD_USER_INPUT error fn throws, with its violations as "path: message" lines. */
function refusal(fn: () => unknown): { message: string; field: string; lines: string[] } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    const e = error as AppError;
    expect(e.code).toBe(ErrorCode.BAD_USER_INPUT);
    const violations = (e.extensions.violations as Array<{ path: string; message: string }>) ?? [];
    return { message: e.message, field: e.extensions.field as string, lines: violations.map((v) => `${v.path}: ${v.message}`) };
  }
  throw new Error('expected a refusal');
}

const vars = (v: Record<string, string>) => (name: string) => (Object.hasOwn(v, name) ? v[name] : undefined);

describe('interpolation (compose-go template semantics)', () => {
  const env = vars({ SET: 'value', EMPTY: '', B: 'bee', lower: 'small' });
  const sub = (t: string) => substitute(t, env).value;

  it('substitutes $VAR and ${VAR}, keeps $$ as $, leaves a $ before anything else alone', () => {
    expect(sub('$SET/${SET}')).toBe('value/value');
    expect(sub('$$SET and $${SET}')).toBe('$SET and ${SET}');
    expect(sub('price: $1, $ alone, end$')).toBe('price: $1, $ alone, end$');
    expect(sub('${lower}')).toBe('small');
    expect(substitute('${MISSING}-$MISSING2', env)).toEqual({ value: '-', unset: ['MISSING', 'MISSING2'] });
  });

  it('defaults: :- for unset or empty, - for unset only; alternatives :+ and +', () => {
    expect(sub('${MISSING:-d} ${EMPTY:-d} ${SET:-d}')).toBe('d d value');
    expect(sub('${MISSING-d} [${EMPTY-d}] ${SET-d}')).toBe('d [] value');
    expect(sub('[${MISSING:+alt}] [${EMPTY:+alt}] ${SET:+alt}')).toBe('[] [] alt');
    expect(sub('[${MISSING+alt}] ${EMPTY+alt} ${SET+alt}')).toBe('[] alt alt');
  });

  it('nests: defaults and messages may hold expressions; what follows a closed expression is substituted too', () => {
    expect(sub('${MISSING:-${ALSO_MISSING:-deep}}')).toBe('deep');
    expect(sub('${MISSING:-${B}}')).toBe('bee');
    expect(sub('${MISSING:-x} and ${B} and ${SET}')).toBe('x and bee and value');
    expect(sub('${MISSING:-a}}')).toBe('a}');
    expect(sub('${MISSING:-a:b-c}')).toBe('a:b-c');
  });

  it('required: :? refuses unset or empty, ? refuses unset only, with the message (itself interpolated)', () => {
    expect(() => sub('${MISSING:?set it}')).toThrow('required variable MISSING is missing a value: set it');
    expect(() => sub('${EMPTY:?no empty}')).toThrow('required variable EMPTY is missing a value: no empty');
    expect(sub('[${EMPTY?fine}]')).toBe('[]');
    expect(() => sub('${MISSING?}')).toThrow(/^required variable MISSING is missing a value$/);
    expect(() => sub('${MISSING:?ask ${B}}')).toThrow('required variable MISSING is missing a value: ask bee');
  });

  it('names the variables used without a value in warnings, as compose does', () => {
    const out = stack(`services:\n  web:\n    image: ${IMAGE}\n    user: "\${WHO}"\n    hostname: "$WHO-\${HOST_SUFFIX:-x}-$$ALSO"\n`);
    expect(out.warnings).toEqual(['The "WHO" variable is not set. Defaulting to a blank string.']);
    expect(out.services[0].TaskTemplate.ContainerSpec.Hostname).toBe('-x-$ALSO');
  });

  it('an invalid ${ expression is an error', () => {
    expect(() => sub('${}')).toThrow(/invalid interpolation format/);
    expect(() => sub('${1abc}')).toThrow(/invalid interpolation format/);
    expect(() => sub('${SET')).toThrow(/invalid interpolation format/);
  });

  it('applies to string values, not keys; casts numbers and booleans where the CLI does; warns about unset variables', () => {
    const out = stack(
      `services:
  web:
    image: \${IMG:-${IMAGE}}
    command: ["sleep", "\${SECS}"]
    read_only: "\${RO}"
    deploy:
      replicas: \${N}
      labels: { "\${KEY}": "\${KEY:-x}" }
`,
      { variables: { N: '3', RO: 'yes', SECS: '60' } },
    );
    const svc = out.services[0];
    expect(svc.Name).toBe('st_web');
    expect(svc.Mode).toEqual({ Replicated: { Replicas: 3 } });
    expect(svc.TaskTemplate.ContainerSpec.ReadOnly).toBe(true);
    expect(svc.TaskTemplate.ContainerSpec.Args).toEqual(['sleep', '60']);
    expect(svc.Labels['${KEY}']).toBe('x');
    expect(out.warnings).toEqual([]);
  });
});

describe('the document: YAML, anchors, x- fields, limits', () => {
  it('resolves anchors and merge keys (several maps, own keys win) and reads 0440 as octal like go-yaml', () => {
    const doc = parseCompose('a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n  mode: 0440\n  quoted: "0440"\n  hex: 0x10\n');
    expect(doc.c).toEqual({ x: 1, y: 1, z: 3, mode: 0o440, quoted: '0440', hex: 16 });
  });

  it('drops x- fields where compose allows extensions, keeps x- keys that are data (labels, environment)', () => {
    const out = stack(`x-top: 1
services:
  web:
    image: ${IMAGE}
    x-service: 1
    labels: { x-team: blue }
    environment: { x-var: "1" }
    deploy: { x-deploy: 1, resources: { x-r: 1, limits: { x-l: 1, memory: 1k } } }
networks:
  x-not-a-network-key: {}
  n: { x-net: 1 }
`);
    const c = out.services[0].TaskTemplate.ContainerSpec;
    expect(c.Labels['x-team']).toBe('blue');
    expect(c.Env).toEqual(['x-var=1']);
    expect(out.services[0].TaskTemplate.Resources).toEqual({ Limits: { MemoryBytes: 1024 } });
    expect(out.warnings).toEqual([]);
  });

  it('refuses a file over the size limit before parsing it', () => {
    const big = `services: {}\n#${'x'.repeat(MAX_COMPOSE_BYTES)}\n`;
    expect(refusal(() => stack(big)).lines).toEqual([`compose: the file is ${Buffer.byteLength(big)} bytes; at most ${MAX_COMPOSE_BYTES} are accepted`]);
  });

  it('refuses a billion-laughs file (alias expansion past the limit)', () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [name, prev] of [
      ['b', 'a'],
      ['c', 'b'],
      ['d', 'c'],
      ['e', 'd'],
      ['f', 'e'],
    ]) {
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const r = refusal(() => stack(`${lines.join('\n')}\nservices: {}\n`));
    expect(r.lines).toEqual(['compose: Excessive alias count indicates a resource exhaustion attack']);
    expect(MAX_ALIAS_COUNT).toBe(100);
  });

  it('refuses invalid YAML naming line and column, several documents, duplicate keys, collection keys, a non-mapping top level', () => {
    expect(refusal(() => stack('services:\n  web: [\n')).field).toMatch(/^compose \(line \d+, column \d+\)$/);
    expect(refusal(() => stack('services: {}\n---\nservices: {}\n')).lines).toEqual(['compose (line 2, column 1): a compose file is one YAML document (found a second one after ---)']);
    expect(refusal(() => stack('services: {}\nservices: {}\n')).lines).toEqual(['compose (line 2, column 1): Map keys must be unique']);
    expect(refusal(() => stack('? [a, b]\n: 1\n')).lines[0]).toMatch(/^compose \(line 1, column 3\): a mapping key must be a plain value/);
    expect(refusal(() => stack('- a\n- b\n')).lines).toEqual(['compose: the top level must be a mapping (services:, networks:, …)']);
    expect(refusal(() => stack('')).lines).toEqual(['compose: the top level must be a mapping (services:, networks:, …)']);
  });

  it('bounds what interpolation can produce', () => {
    const big = 'x'.repeat(200_000);
    const compose = `services:\n  web:\n    image: ${IMAGE}\n    environment:\n${Array.from({ length: 30 }, (_, i) => `      - V${i}=\${BIG}`).join('\n')}\n`;
    expect(refusal(() => stack(compose, { variables: { BIG: big } })).lines).toEqual(['compose: the interpolated document is larger than 4194304 characters']);
  });
});

describe('env files (compose-go dotenv)', () => {
  it('reads KEY=VAL, KEY: VAL, export, comments, quotes and escapes, interpolation, bare keys from the variables', () => {
    const src = [
      '\uFEFF# a comment',
      'PLAIN=some value  # trailing comment',
      'export EXPORTED=yes',
      'COLON: yaml-like',
      "SINGLE='kept ${PLAIN} \\n literally'",
      'DOUBLE="line1\\nline2 \\"quoted\\" \\$NOT ${PLAIN}"',
      'REF=${PLAIN}-${FROM_VARS:-none}',
      'BARE_SET',
      'BARE_UNSET',
      'EMPTY=',
      'MULTI="a',
      'b"',
    ].join('\n');
    const out = parseEnvFile(src, vars({ BARE_SET: 'from-vars' }));
    expect(Object.fromEntries(out)).toEqual({
      PLAIN: 'some value',
      EXPORTED: 'yes',
      COLON: 'yaml-like',
      SINGLE: 'kept ${PLAIN} \\n literally',
      DOUBLE: 'line1\nline2 "quoted" $NOT some value',
      REF: 'some value-none',
      BARE_SET: 'from-vars',
      EMPTY: '',
      MULTI: 'a\nb',
    });
  });

  it('refuses unterminated quotes and bad key characters, naming the line', () => {
    expect(() => parseEnvFile('A=1\nB="open\n', vars({}))).toThrow(/line 3: unterminated quoted value/);
    expect(() => parseEnvFile('A=1\nB@C=1\n', vars({}))).toThrow(/line 2: unexpected character "@"/);
  });

  it('env_file entries come from envFiles (or files), by normalised path; a missing required one is refused', () => {
    const compose = `services:\n  web:\n    image: ${IMAGE}\n    env_file: [./a.env, {path: ./opt.env, required: false}]\n    environment: [B=2]\n`;
    expect(stack(compose, { envFiles: { 'a.env': 'A=1\nB=1\n' } }).services[0].TaskTemplate.ContainerSpec.Env).toEqual(['A=1', 'B=2']);
    expect(stack(compose, { files: { './sub/../a.env': 'A=9' } }).services[0].TaskTemplate.ContainerSpec.Env).toEqual(['A=9', 'B=2']);
    expect(refusal(() => stack(compose)).lines).toEqual(['services.web.env_file[0]: "./a.env" was not sent with the deploy (envFiles)']);
    expect(refusal(() => stack(compose, { envFiles: { 'a.env': 'X="oops' } })).lines[0]).toMatch(/^services\.web\.env_file\[0\]: invalid env file "\.\/a\.env": line 1: unterminated/);
  });
});

describe('schema validation', () => {
  it('reports every violation with a dotted path, the meant alternative of a oneOf, and CLI types after interpolation', () => {
    const r = refusal(() =>
      stack(
        `services:
  web:
    image: ${IMAGE}
    deploy: { replicas: 1.5 }
    ports: [{ target: "http" }]
    networks: [1]
    healthcheck: { test: 5 }
    bogus: true
  db:
    image: ${IMAGE}
    deploy: { replicas: "\${N}" }
    command: { a: 1 }
`,
        { variables: { N: 'three' } },
      ),
    );
    expect(r.lines.sort()).toEqual(
      [
        'services.web.bogus: is not allowed here',
        'services.web.deploy.replicas: must be integer',
        'services.web.healthcheck.test: must be string or array',
        'services.web.networks[0]: must be string',
        'services.web.ports[0].target: must be integer',
        'services.db.command: must be null or string or array',
        'services.db.deploy.replicas: must be integer',
      ].sort(),
    );
    expect(r.message).toMatch(/^7 problems in the compose file: /);
  });

  it('names unknown top-level keys by themselves; refuses include (a deploy carries one file)', () => {
    expect(refusal(() => stack(`services: {}\nservice: {}\n`)).lines).toEqual(['service: is not allowed here']);
    expect(refusal(() => stack(`include: [other.yml]\nservices: {}\n`)).lines).toEqual(['include: is not supported: send one compose file with everything the stack needs']);
  });
});

describe('conversion refusals name the path', () => {
  it('references to undefined networks, secrets, configs and volumes', () => {
    const r = refusal(() =>
      stack(`services:
  web:
    image: ${IMAGE}
    networks: [front]
    secrets: [pw]
    configs: [{ source: conf, target: /c }]
    volumes: [data:/data]
`),
    );
    expect(r.lines).toEqual([
      'services.web.volumes[0]: undefined volume "data"',
      'services.web.secrets[0]: undefined secret "pw"',
      'services.web.configs[0]: undefined config "conf"',
      'services.web.networks.front: undefined network "front"',
    ]);
  });

  it('a required variable without a value, with its message, every one', () => {
    const r = refusal(() => stack(`services:\n  web:\n    image: \${IMG:?give an image}\n    user: \${U?}\n`));
    expect(r.lines).toEqual(['services.web.image: required variable IMG is missing a value: give an image', 'services.web.user: required variable U is missing a value']);
  });

  it('keys the CLI forbids, replicas in global mode, an unknown mode, disable with a test, duplicate targets', () => {
    const r = refusal(() =>
      stack(
        `services:
  a:
    image: ${IMAGE}
    mem_limit: 1g
    deploy: { mode: global, replicas: 2 }
  b:
    image: ${IMAGE}
    deploy: { mode: sometimes }
    healthcheck: { disable: true, test: ["CMD", "true"] }
    secrets: [s, { source: s, target: s }]
secrets:
  s: { environment: S }
`,
        { variables: { S: 'x' } },
      ),
    );
    expect(r.lines).toEqual([
      'services.a.mem_limit: is not supported by docker stack deploy: Set resource limits using deploy.resources',
      'services.a.deploy.replicas: replicas can only be used with replicated or replicated-job mode',
      "services.b.healthcheck: test and disable can't be set at the same time",
      'services.b.secrets[1]: duplicate secret target for st_s not allowed',
      'services.b.deploy.mode: unknown mode: sometimes',
    ]);
  });

  it('values the Go parsers refuse: durations, sizes, CPUs, ports, shell strings, restart policies', () => {
    const r = refusal(() =>
      stack(`services:
  a:
    image: ${IMAGE}
    command: 'echo "unclosed'
    restart: sometimes
    ports: ["80:x"]
    healthcheck: { interval: 5 minutes }
    deploy:
      resources: { limits: { cpus: "0.0000000001", memory: 12zb } }
`),
    );
    expect(r.lines).toEqual([
      'services.a.command: EOF found when expecting closing quote',
      'services.a.healthcheck.interval: unknown unit " minutes" in duration "5 minutes"',
      'services.a.deploy.resources.limits.cpus: value is too precise',
      "services.a.deploy.resources.limits.memory: invalid suffix: 'zb'",
      'services.a.ports[0]: invalid containerPort: x',
      "services.a.restart: invalid restart policy: unknown policy 'sometimes' (must be one of 'no', 'always', 'on-failure', or 'unless-stopped')",
    ]);
  });

  it('an IPAM subnet that is not CIDR', () => {
    const compose = `services:\n  a:\n    image: ${IMAGE}\n    networks: [n]\nnetworks:\n  n:\n    ipam:\n      config: [{ subnet: 10.0.0.0/33 }, { subnet: 10.1.0.0/16 }]\n`;
    expect(refusal(() => stack(compose)).lines).toEqual(['networks.n.ipam.config[0].subnet: "10.0.0.0/33" is not a subnet in CIDR notation']);
  });

  it('images: required (no builds), a valid reference; service names Swarm accepts', () => {
    const r = refusal(() => stack(`services:\n  nobuild:\n    build: .\n  bad:\n    image: Local/BusyBox\n  ${'x'.repeat(61)}:\n    image: ${IMAGE}\n`));
    expect(r.lines).toEqual([
      'services.nobuild.image: is required: docker stack deploy does not build images (service nobuild)',
      'services.bad.image: invalid image reference for service bad: invalid reference format: repository name must be lowercase',
      `services.${'x'.repeat(61)}: the service name "st_${'x'.repeat(61)}" is not valid for Swarm (letters, digits, "-" and "_" between them, at most 63 characters)`,
    ]);
  });

  it('bind sources must be absolute (no working directory on the server); ~ is the HOME variable', () => {
    const compose = `services:\n  a:\n    image: ${IMAGE}\n    volumes: ["./data:/data", "~/x:/x"]\n`;
    expect(refusal(() => stack(compose)).lines).toEqual([
      'services.a.volumes[0]: bind mount source "./data" must be an absolute path (there is no working directory to resolve it against)',
      'services.a.volumes[1]: cannot expand "~" in "~/x": the deploy sets no HOME variable',
    ]);
    const ok = stack(`services:\n  a:\n    image: ${IMAGE}\n    volumes: ["~/x:/x"]\n`, { variables: { HOME: '/home/me' } });
    expect(ok.services[0].TaskTemplate.ContainerSpec.Mounts).toEqual([{ Type: 'bind', Source: '/home/me/x', Target: '/x' }]);
  });

  it('secrets and configs: files must be sent, data within Swarm limits, one source each', () => {
    const compose = `services:\n  a:\n    image: ${IMAGE}\nsecrets:\n  s: { file: ./s.txt }\n  none: {}\nconfigs:\n  c: { environment: CONF }\n`;
    expect(refusal(() => stack(compose)).lines).toEqual([
      'secrets.s.file: "./s.txt" was not sent with the deploy (files)',
      'secrets.none: a secret needs file, environment or external',
      "configs.c.environment: the variable CONF is not set in the deploy's variables",
    ]);
    const big = 'x'.repeat(MAX_SECRET_BYTES + 1);
    expect(refusal(() => stack(compose, { files: { 's.txt': big }, variables: { CONF: 'c' } })).lines).toEqual([
      `secrets.s: the secret's data is ${big.length} bytes; Swarm accepts at most ${MAX_SECRET_BYTES}`,
      'secrets.none: a secret needs file, environment or external',
    ]);
  });

  it('stack names and what is sent with the deploy', () => {
    const compose = `services:\n  a:\n    image: ${IMAGE}\n`;
    for (const name of ['', 'Upper', '-dash', 'a b', 'x'.repeat(41)]) expect(refusal(() => loadStack({ name, compose })).field).toBe('name');
    expect(loadStack({ name: 'ok_name-1', compose }).services[0].Name).toBe('ok_name-1_a');
    expect(refusal(() => stack(compose, { variables: { 'A=B': '1' } })).field).toBe('variables.A=B');
    expect(refusal(() => stack(compose, { files: { 'a.txt': '1', './a.txt': '2' } })).lines).toEqual(['files../a.txt: names the same file as another entry (a.txt)']);
  });
});

describe('external objects and inline contents', () => {
  it('external networks, secrets, configs and volumes are referenced by name, not created', () => {
    const out = stack(`services:
  a:
    image: ${IMAGE}
    networks: [shared, hostnet]
    secrets: [ext_secret]
    configs: [old_style]
    volumes: [ext:/ext]
networks:
  shared: { external: true, name: corp-shared }
  hostnet: { external: true, name: host }
secrets:
  ext_secret: { external: true }
configs:
  old_style: { external: { name: legacy-config } }
volumes:
  ext: { external: true }
`);
    expect(out.networks).toEqual([]);
    // validateExternalNetworks skips networks that exist on every node (host, bridge, none)
    expect(out.externalNetworks).toEqual(['corp-shared']);
    expect(out.externalSecrets).toEqual(['ext_secret']);
    expect(out.externalConfigs).toEqual(['legacy-config']);
    expect(out.secrets).toEqual([]);
    const c = out.services[0].TaskTemplate;
    // no alias on a network that is not user-defined (convertServiceNetworks)
    expect(c.Networks).toEqual([{ Target: 'corp-shared', Aliases: ['a'] }, { Target: 'host' }]);
    expect(c.ContainerSpec.Secrets).toEqual([{ File: { Name: 'ext_secret', UID: '0', GID: '0', Mode: 0o444 }, SecretName: 'ext_secret' }]);
    expect(c.ContainerSpec.Mounts).toEqual([{ Type: 'volume', Source: 'ext', Target: '/ext', VolumeOptions: {} }]);
    expect(out.volumes).toEqual([{ Name: 'ext', External: true }]);
  });

  it('secrets and configs from inline content or a deploy variable', () => {
    const out = stack(`services:\n  a:\n    image: ${IMAGE}\nsecrets:\n  token: { environment: TOKEN }\nconfigs:\n  conf: { content: "port=\${PORT:-80}" }\n`, { variables: { TOKEN: 't0k' } });
    expect(out.secrets).toEqual([{ Name: 'st_token', Labels: { 'com.docker.stack.namespace': 'st' }, Data: Buffer.from('t0k').toString('base64') }]);
    expect(out.configs).toEqual([{ Name: 'st_conf', Labels: { 'com.docker.stack.namespace': 'st' }, Data: Buffer.from('port=80').toString('base64') }]);
  });
});

describe('the Go parsers', () => {
  it('time.ParseDuration', () => {
    expect(parseDuration('1h2m3.5s')).toBe(3_723_500_000_000);
    expect(parseDuration('1.5ms')).toBe(1_500_000);
    expect(parseDuration('300us')).toBe(300_000);
    expect(parseDuration('-2s')).toBe(-2e9);
    expect(parseDuration('0')).toBe(0);
    expect(() => parseDuration('10')).toThrow('missing unit in duration "10"');
    expect(() => parseDuration('')).toThrow('invalid duration ""');
    expect(() => parseDuration('1d')).toThrow('unknown unit "d" in duration "1d"');
    expect(() => parseDuration('1mx')).toThrow('unknown unit "mx" in duration "1mx"');
    expect(() => parseDuration('.s')).toThrow('invalid duration ".s"');
    expect(parseDuration('1.s')).toBe(1e9);
  });

  it('RAMInBytes and ParseCPUs', () => {
    expect([parseBytes('1k'), parseBytes('1KB'), parseBytes('1kib'), parseBytes('1.5m'), parseBytes('10'), parseBytes(7)]).toEqual([1024, 1024, 1024, 1.5 * 1024 * 1024, 10, 7]);
    expect(() => parseBytes('1kk')).toThrow("invalid suffix: 'kk'");
    expect([parseCpus('0.5'), parseCpus('1/4'), parseCpus(2), parseCpus('1e-3')]).toEqual([5e8, 2.5e8, 2e9, 1e6]);
    expect(() => parseCpus('abc')).toThrow('failed to parse abc as a rational number');
  });

  it('google/shlex Split', () => {
    expect(shlexSplit(`a "b c" 'd e' f\\ g "h\\"i" # comment`)).toEqual(['a', 'b c', 'd e', 'f g', 'h"i']);
    expect(shlexSplit(`x#y ""`)).toEqual(['x#y', '']);
    expect(() => shlexSplit('a\\')).toThrow('EOF found after escape character');
  });
});

describe('interpolation expressions: matched by hand, in linear time', () => {
  // compose-go's DefaultPattern: the reference the hand-written matcher must agree with
  const PATTERN = /\$(?:(?<escaped>\$)|(?<named>[_a-z][_a-z0-9]*)|\{(?:(?<braced>[_a-z][_a-z0-9]*(?::?[-+?](?:.*))?)\}|(?<invalid>)))/gi;
  const viaRegex = (s: string) => [...s.matchAll(PATTERN)].map((m) => ({ start: m.index!, end: m.index! + m[0].length, escaped: m.groups!.escaped, named: m.groups!.named, braced: m.groups!.braced }));
  const viaMatcher = (s: string) => expressions(s).map((e) => ({ start: e.start, end: e.end, escaped: e.escaped, named: e.named, braced: e.braced }));

  it('finds what DefaultPattern finds, on 20,000 strings made of its characters', () => {
    const alphabet = ['$', '{', '}', 'a', 'B', '_', '1', ':', '-', '+', '?', '\n', '\r', ' ', 'x'];
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 20_000; n++) {
      let s = '';
      for (let i = 1 + Math.floor(random() * 16); i > 0; i--) s += alphabet[Math.floor(random() * alphabet.length)];
      expect([s, viaMatcher(s)]).toEqual([s, viaRegex(s)]);
    }
  });

  it('an env file line with a megabyte of blanks is read in one pass (trailing blanks were cut with a backtracking /\\s+$/)', () => {
    expect(() => parseEnvFile(`A${' '.repeat(1024 * 1024)}B=1\n`, vars({}))).toThrow(/key cannot contain a space/);
    expect(parseEnvFile(`C=2${' '.repeat(1024 * 1024)}\nD${' '.repeat(1024 * 1024)}=3\n`, vars({}))).toEqual(
      new Map([
        ['C', '2'],
        ['D', '3'],
      ]),
    );
  });

  it('an unclosed `${a-` repeated over 500 KiB is read in one pass (the regular expression backtracked for minutes)', () => {
    const template = '${a-'.repeat(128 * 1024);
    expect(expressions(template)).toHaveLength(128 * 1024);
    expect(() => substitute(template, () => undefined)).toThrow(/invalid interpolation format/);
  });
});
