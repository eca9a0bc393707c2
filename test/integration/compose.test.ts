/**
 * docker-compose.yml and the Dockerfile can't be run here (no registry access), so this test
 * reads them and checks the wiring: every environment variable the API reads is set on the api
 * service, the api waits for healthy PostgreSQL and Redis, its URLs point at the compose
 * services, the ports line up with the Dockerfile, and Vault runs in dev mode.
 *
 * Each check is a function returning a list of problems. The real files must give none; the
 * "each check can fail" block feeds every check a broken variant and expects it to complain.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ENV_VARS } from '../../src/kernel/config';

const root = path.resolve(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');

/** Variables the api service may leave unset, with the reason. Keep it short. */
const OPTIONAL_IN_COMPOSE: Record<string, string> = {};

/** Secrets Compose must refuse to start without (`${NAME:?message}`): no default may exist. */
const REQUIRED_SECRETS = ['FLEETGRAPH_JWT_SECRET', 'FLEETGRAPH_ENCRYPTION_KEY'];

// ---------------------------------------------------------------------------------------------
// Parsing helpers
// ---------------------------------------------------------------------------------------------

type Json = any;

interface Inputs {
  compose: Json;
  dockerfile: string;
  dockerignore: string;
  envVars: readonly string[];
  /** The "start" script of package.json. */
  startScript: string;
  /** tsconfig.build.json merged over tsconfig.json (compilerOptions only). */
  buildOptions: { rootDir?: string; outDir?: string };
}

function loadInputs(): Inputs {
  const pkg = JSON.parse(read('package.json'));
  const base = JSON.parse(read('tsconfig.json'));
  const build = JSON.parse(read('tsconfig.build.json'));
  expect(build.extends).toBe('./tsconfig.json');
  return {
    compose: parse(read('docker-compose.yml')),
    dockerfile: read('Dockerfile'),
    dockerignore: read('.dockerignore'),
    envVars: ENV_VARS,
    startScript: pkg.scripts.start,
    buildOptions: { ...base.compilerOptions, ...build.compilerOptions },
  };
}

/** A service's environment as a map (Compose allows a mapping or a list of KEY=VALUE). */
function environment(service: Json): Record<string, string | undefined> {
  const env = service?.environment;
  if (!env) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry: string) => {
        const i = entry.indexOf('=');
        return i < 0 ? [entry, undefined] : [entry.slice(0, i), entry.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? undefined : String(v)]));
}

/**
 * Compose variable interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
 * ${VAR:?error}, ${VAR?error}. `vars` plays the role of the shell environment / .env file.
 */
function interpolate(value: string, vars: Record<string, string | undefined> = {}): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, name: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
      if (match === '$$') return '$';
      if (bare) return vars[bare] ?? '';
      const v = vars[name!];
      const missing = v === undefined || (op?.startsWith(':') === true && v === '');
      if (op === ':-' || op === '-') return missing ? arg! : v!;
      if (op === ':?' || op === '?') {
        if (missing) throw new Error(`${name}: ${arg}`);
        return v!;
      }
      return v ?? '';
    },
  );
}

/** What a user must provide for `docker compose up`: the required secrets only. */
const USER_VARS: Record<string, string> = {
  FLEETGRAPH_JWT_SECRET: 'x'.repeat(48),
  FLEETGRAPH_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};

/** The api's environment as the container would see it with only the required secrets provided. */
function resolvedEnv(service: Json): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(environment(service)).map(([k, v]) => [k, v === undefined ? undefined : interpolate(v, USER_VARS)]));
}

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions grouped by stage (line continuations joined, comments dropped). */
function dockerStages(dockerfile: string): { from: string; name?: string; instructions: Instruction[] }[] {
  const lines = dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: { from: string; name?: string; instructions: Instruction[] }[] = [];
  for (const line of lines) {
    const m = /^(\S+)\s*(.*)$/.exec(line)!;
    const op = m[1].toUpperCase();
    const args = m[2].trim();
    if (op === 'FROM') {
      const f = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: f?.[1] ?? args, name: f?.[2], instructions: [] });
    } else if (stages.length) {
      stages[stages.length - 1].instructions.push({ op, args });
    }
  }
  return stages;
}

/** The container port of a Compose port mapping (short "host:container[/proto]" or long syntax). */
function containerPort(mapping: Json): number {
  if (typeof mapping === 'object' && mapping) return Number(mapping.target);
  const s = String(mapping).replace(/\/(tcp|udp)$/, '');
  return Number(s.split(':').pop());
}

/** Environment variable names read in TypeScript source: env.NAME, process.env.NAME, env['NAME']. */
function envReads(source: string): { names: string[]; dynamic: string[] } {
  const names = new Set<string>();
  for (const m of source.matchAll(/\benv(?:\.([A-Z][A-Z0-9_]*)\b|\[\s*['"`]([A-Z][A-Z0-9_]*)['"`]\s*\])/g)) names.add(m[1] ?? m[2]);
  // env[someVariable] can't be checked statically; ENV_VARS must be the only source of names.
  // Lines marked `env-scan: hides` only hide variables from a library (docker-modem) and read none.
  const scanned = source
    .split('\n')
    .filter((l) => !l.includes('env-scan: hides'))
    .join('\n');
  const dynamic = [...scanned.matchAll(/\b(?:process\.)?env\[\s*(?!['"`])([^\]]*)\]/g)].map((m) => m[0]);
  return { names: [...names], dynamic };
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(rel);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

// ---------------------------------------------------------------------------------------------
// Checks (each returns problems; [] means fine)
// ---------------------------------------------------------------------------------------------

/** The code reads exactly the variables ENV_VARS lists. */
function checkEnvVarsMatchSource(files: Record<string, string>, envVars: readonly string[]): string[] {
  const problems: string[] = [];
  const read = new Set<string>();
  for (const [file, source] of Object.entries(files)) {
    const { names, dynamic } = envReads(source);
    names.forEach((n) => read.add(n));
    for (const d of dynamic) problems.push(`${file}: dynamic environment access ${d} (list the name in ENV_VARS and read it literally)`);
    for (const n of names) if (!envVars.includes(n)) problems.push(`${file} reads ${n}, which ENV_VARS in src/kernel/config.ts does not list`);
  }
  for (const n of envVars) if (!read.has(n)) problems.push(`ENV_VARS lists ${n} but no source file reads it`);
  return problems;
}

function checkApiEnvironment(i: Inputs): string[] {
  const problems: string[] = [];
  const api = i.compose.services?.api;
  if (!api) return ['no api service'];
  const env = environment(api);
  for (const name of i.envVars) {
    if (name in OPTIONAL_IN_COMPOSE) continue;
    if (!(name in env)) problems.push(`${name} is read by the API but not set in the api service's environment`);
    else if (env[name] === undefined) problems.push(`${name} is passed through from the host without a value or default`);
  }
  for (const name of Object.keys(OPTIONAL_IN_COMPOSE)) {
    if (!i.envVars.includes(name)) problems.push(`OPTIONAL_IN_COMPOSE lists ${name}, which the API does not read`);
  }
  const resolved = resolvedEnv(api);
  if (resolved.NODE_ENV !== 'production') problems.push(`NODE_ENV is ${resolved.NODE_ENV}, expected production`);
  if (resolved.HOST !== '0.0.0.0') problems.push(`HOST is ${resolved.HOST}, expected 0.0.0.0 (reachable from outside the container)`);
  for (const secret of REQUIRED_SECRETS) {
    const raw = env[secret] ?? '';
    if (!new RegExp(`^\\$\\{${secret}:\\?[^}]+\\}$`).test(raw)) {
      problems.push(`${secret} must be required with a message, \${${secret}:?...}, got ${JSON.stringify(raw)}`);
    }
    let refused = false;
    try {
      interpolate(raw, {}); // with nothing provided, Compose must refuse to start
    } catch {
      refused = true;
    }
    if (!refused) problems.push(`${secret}: Compose would start without it`);
  }
  return problems;
}

function checkBuild(i: Inputs): string[] {
  const build = i.compose.services?.api?.build;
  const context = typeof build === 'string' ? build : build?.context;
  const dockerfile = typeof build === 'object' ? (build.dockerfile ?? 'Dockerfile') : 'Dockerfile';
  const problems: string[] = [];
  if (!['.', './'].includes(context)) problems.push(`api is built from ${context}, expected the repository root`);
  if (dockerfile !== 'Dockerfile') problems.push(`api is built with ${dockerfile}, expected ./Dockerfile`);
  return problems;
}

function checkDependencies(i: Inputs): string[] {
  const problems: string[] = [];
  const services = i.compose.services ?? {};
  const dependsOn = services.api?.depends_on ?? {};
  const expectedProbe: Record<string, RegExp> = { postgres: /\bpg_isready\b/, redis: /\bredis-cli\b.*\bping\b/ };
  for (const dep of ['postgres', 'redis']) {
    if (Array.isArray(dependsOn) || dependsOn[dep]?.condition !== 'service_healthy') {
      problems.push(`api must depend on ${dep} with condition service_healthy`);
    }
    const test = services[dep]?.healthcheck?.test;
    const cmd = Array.isArray(test) ? test.join(' ') : String(test ?? '');
    if (!expectedProbe[dep].test(cmd)) problems.push(`${dep} needs a healthcheck (${expectedProbe[dep]}), got ${JSON.stringify(test)}`);
  }
  const apiTest = services.api?.healthcheck?.test;
  if (!/\/readyz\b/.test(Array.isArray(apiTest) ? apiTest.join(' ') : String(apiTest ?? ''))) {
    problems.push('api healthcheck must probe /readyz');
  }
  return problems;
}

function checkUrls(i: Inputs): string[] {
  const problems: string[] = [];
  const services = i.compose.services ?? {};
  const env = resolvedEnv(services.api);
  const expectations: [string, string, string[], number][] = [
    ['DATABASE_URL', 'postgres', ['postgres:', 'postgresql:'], 5432],
    ['REDIS_URL', 'redis', ['redis:'], 6379],
    ['VAULT_ADDR', 'vault', ['http:', 'https:'], 8200],
  ];
  for (const [name, service, protocols, defaultPort] of expectations) {
    let url: URL;
    try {
      url = new URL(env[name] ?? '');
    } catch {
      problems.push(`${name} is not a URL: ${JSON.stringify(env[name])}`);
      continue;
    }
    if (!services[service]) problems.push(`${name}: there is no ${service} service`);
    if (url.hostname !== service) problems.push(`${name} must point at the ${service} service, got host ${url.hostname}`);
    if (!protocols.includes(url.protocol)) problems.push(`${name} has protocol ${url.protocol}`);
    if (url.port && Number(url.port) !== defaultPort) problems.push(`${name} uses port ${url.port}, ${service} listens on ${defaultPort}`);
  }
  // The database credentials are the ones the postgres service is initialised with.
  const pg = resolvedEnv(services.postgres);
  try {
    const db = new URL(env.DATABASE_URL ?? '');
    const actual = [decodeURIComponent(db.username), decodeURIComponent(db.password), db.pathname.slice(1)];
    const expected = [pg.POSTGRES_USER ?? 'postgres', pg.POSTGRES_PASSWORD, pg.POSTGRES_DB ?? pg.POSTGRES_USER ?? 'postgres'];
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      problems.push(`DATABASE_URL credentials/database ${JSON.stringify(actual)} differ from the postgres service's ${JSON.stringify(expected)}`);
    }
  } catch {
    /* reported above */
  }
  return problems;
}

function checkPorts(i: Inputs): string[] {
  const problems: string[] = [];
  const stages = dockerStages(i.dockerfile);
  const exposed =
    stages
      .at(-1)
      ?.instructions.filter((x) => x.op === 'EXPOSE')
      .flatMap((x) => x.args.split(/\s+/).map((p) => Number(p.replace(/\/tcp$/, '')))) ?? [];
  if (exposed.length !== 1) return [`the Dockerfile's runtime stage must EXPOSE exactly one port, found ${JSON.stringify(exposed)}`];
  const [port] = exposed;
  const api = i.compose.services?.api ?? {};
  const targets = (api.ports ?? []).map(containerPort);
  if (targets.length === 0) problems.push('api publishes no port');
  for (const t of targets) if (t !== port) problems.push(`api port mapping targets ${t} but the Dockerfile EXPOSEs ${port}`);
  const envPort = resolvedEnv(api).PORT;
  if (Number(envPort) !== port) problems.push(`api PORT is ${envPort} but the Dockerfile EXPOSEs ${port}`);
  return problems;
}

function checkVault(i: Inputs): string[] {
  const problems: string[] = [];
  const vault = i.compose.services?.vault;
  if (!vault) return ['no vault service'];
  if (!/^hashicorp\/vault(:|$)/.test(vault.image ?? '')) problems.push(`vault image is ${vault.image}`);
  const command = Array.isArray(vault.command) ? vault.command : String(vault.command ?? '').split(/\s+/);
  if (command[0] !== 'server' || !command.includes('-dev')) problems.push(`vault must run "server -dev" (dev mode), got ${JSON.stringify(vault.command)}`);
  const env = resolvedEnv(vault);
  if (!env.VAULT_DEV_ROOT_TOKEN_ID) problems.push('vault needs VAULT_DEV_ROOT_TOKEN_ID');
  if (!/^0\.0\.0\.0:8200$/.test(env.VAULT_DEV_LISTEN_ADDRESS ?? '')) problems.push('vault dev server must listen on 0.0.0.0:8200 to be reachable from the api');
  const apiToken = resolvedEnv(i.compose.services.api).VAULT_TOKEN;
  if (apiToken !== env.VAULT_DEV_ROOT_TOKEN_ID) problems.push(`api VAULT_TOKEN (${apiToken}) is not vault's dev root token (${env.VAULT_DEV_ROOT_TOKEN_ID})`);
  return problems;
}

/** The Docker socket is only an opt-in comment: no service mounts it. */
function checkNoDockerSocket(i: Inputs): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries<Json>(i.compose.services ?? {})) {
    for (const v of service.volumes ?? []) {
      const source = typeof v === 'string' ? v.split(':')[0] : v?.source;
      if (/docker\.sock/.test(String(source))) problems.push(`${name} mounts the docker socket (${source}); that must stay an opt-in comment`);
    }
  }
  return problems;
}

function checkDockerfile(i: Inputs): string[] {
  const problems: string[] = [];
  const stages = dockerStages(i.dockerfile);
  if (stages.length < 2) return ['the Dockerfile must be multi-stage (build and runtime)'];
  for (const s of stages) if (s.from !== 'node:20-bookworm-slim') problems.push(`stage ${s.name} is FROM ${s.from}, expected node:20-bookworm-slim`);
  const runs = (s: (typeof stages)[number]) =>
    s.instructions
      .filter((x) => x.op === 'RUN')
      .map((x) => x.args)
      .join('\n');
  const build = stages.find((s) => /\btsc\b/.test(runs(s)));
  if (!build) problems.push('no stage compiles with tsc');
  else {
    if (!/\bnpm ci\b(?![^\n]*--omit=dev)/.test(runs(build))) problems.push('the build stage must install all dependencies with npm ci');
    if (!/\btsc\b[^\n]*-p\s+tsconfig\.build\.json/.test(runs(build))) problems.push('the build stage must compile with tsc -p tsconfig.build.json');
  }
  const runtime = stages.at(-1)!;
  if (!/\bnpm ci\b[^\n]*--omit=dev/.test(runs(runtime))) problems.push('the runtime stage must install production dependencies only (npm ci --omit=dev)');
  if (!runtime.instructions.some((x) => x.op === 'COPY' && x.args.includes(`--from=${build?.name}`) && /\bdist\b/.test(x.args))) {
    problems.push('the runtime stage must copy dist/ from the build stage');
  }
  const user = runtime.instructions.filter((x) => x.op === 'USER').at(-1)?.args;
  if (!user || /^(root|0)(:|$)/.test(user)) problems.push(`the runtime stage must switch to a non-root USER, got ${user}`);
  const health = runtime.instructions.find((x) => x.op === 'HEALTHCHECK')?.args ?? '';
  if (!/\/healthz\b/.test(health)) problems.push('the runtime stage needs a HEALTHCHECK against /healthz');

  // CMD runs what `npm start` runs, and that is where tsconfig.build.json puts src/main.ts.
  const cmd = runtime.instructions.filter((x) => x.op === 'CMD').at(-1)?.args;
  let argv: string[] | undefined;
  try {
    argv = cmd ? JSON.parse(cmd) : undefined;
  } catch {
    problems.push(`CMD must use the exec (JSON) form so node receives SIGTERM, got ${cmd}`);
  }
  // npm start's node command: its flags (e.g. --max-semi-space-size=64) and script; the image runs the same
  const start = /\bnode((?:\s+-\S+)*)\s+(\S+\.js)\b/.exec(i.startScript);
  const started = start?.[2];
  const flags = start?.[1].trim().split(/\s+/).filter(Boolean) ?? [];
  const { rootDir = '.', outDir } = i.buildOptions;
  const emitted = outDir ? path.posix.join(outDir, path.posix.relative(rootDir, 'src/main.ts').replace(/\.ts$/, '.js')) : undefined;
  if (started !== emitted) problems.push(`npm start runs ${started} but tsconfig.build.json emits src/main.ts as ${emitted}`);
  const expected = ['node', ...flags, emitted];
  if (argv && JSON.stringify(argv) !== JSON.stringify(expected)) problems.push(`CMD is ${cmd}, expected ${JSON.stringify(expected)}`);
  return problems;
}

/** Everything the Dockerfile COPYs from the context is re-included by the allow-list .dockerignore. */
function checkDockerignore(i: Inputs): string[] {
  const problems: string[] = [];
  const lines = i.dockerignore
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const allowed = new Set(lines.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, '')));
  if (!lines.includes('*')) problems.push('.dockerignore must start from "*" (allow-list)');
  for (const stage of dockerStages(i.dockerfile)) {
    for (const x of stage.instructions) {
      if (x.op !== 'COPY' || /--from=/.test(x.args)) continue;
      const parts = x.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const src of parts.slice(0, -1)) {
        if (!allowed.has(src.replace(/^\.\//, '').replace(/\/$/, ''))) problems.push(`Dockerfile copies ${src}, which .dockerignore excludes`);
      }
    }
  }
  for (const ignored of ['node_modules', '.data', '.git', 'dist']) {
    if (allowed.has(ignored)) problems.push(`.dockerignore lets ${ignored} into the build context`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('docker-compose.yml and Dockerfile', () => {
  const inputs = loadInputs();

  it('ENV_VARS in src/kernel/config.ts lists exactly the variables the code reads', () => {
    const files = Object.fromEntries(['src', 'resolvers', 'entities'].flatMap(sourceFiles).map((f) => [f, read(f)]));
    expect(Object.keys(files)).toContain(path.join('src', 'app', 'config.ts'));
    expect(checkEnvVarsMatchSource(files, ENV_VARS)).toEqual([]);
  });

  it('sets every variable the API reads on the api service; secrets are required', () => {
    expect(checkApiEnvironment(inputs)).toEqual([]);
  });

  it('builds the api from ./Dockerfile', () => {
    expect(checkBuild(inputs)).toEqual([]);
  });

  it('starts the api only once postgres and redis are healthy', () => {
    expect(checkDependencies(inputs)).toEqual([]);
  });

  it('points DATABASE_URL, REDIS_URL and VAULT_ADDR at the compose services', () => {
    expect(checkUrls(inputs)).toEqual([]);
  });

  it("maps the api port to the Dockerfile's EXPOSE", () => {
    expect(checkPorts(inputs)).toEqual([]);
  });

  it('runs vault in dev mode with the token the api uses', () => {
    expect(checkVault(inputs)).toEqual([]);
  });

  it('mounts the docker socket nowhere (opt-in comment only)', () => {
    expect(checkNoDockerSocket(inputs)).toEqual([]);
    expect(read('docker-compose.yml')).toMatch(/^\s*#\s*-\s*\/var\/run\/docker\.sock:\/var\/run\/docker\.sock\s*$/m);
  });

  it('builds a multi-stage, non-root image that runs what npm start runs', () => {
    expect(checkDockerfile(inputs)).toEqual([]);
  });

  it('keeps the build context to what the Dockerfile copies', () => {
    expect(checkDockerignore(inputs)).toEqual([]);
  });

  it('interpolates like Compose', () => {
    expect(interpolate('a$${B}${C:-c}${D-d}${E}', { E: 'e', D: '' })).toBe('a${B}ce');
    expect(() => interpolate('${S:?need S}', { S: '' })).toThrow('S: need S');
    expect(interpolate('${S:?need S}', { S: 's' })).toBe('s');
  });

  describe('each check can fail', () => {
    const clone = (): Inputs => ({ ...inputs, compose: structuredClone(inputs.compose) });
    const api = (i: Inputs) => i.compose.services.api;
    const cases: [string, (i: Inputs) => void, (i: Inputs) => string[], RegExp][] = [
      ['env var missing from api', (i) => delete api(i).environment.REDIS_URL, checkApiEnvironment, /REDIS_URL is read by the API but not set/],
      ['new env var in ENV_VARS', (i) => (i.envVars = [...i.envVars, 'FLEETGRAPH_NEW_THING']), checkApiEnvironment, /FLEETGRAPH_NEW_THING/],
      ['passthrough without value', (i) => (api(i).environment.LOG_LEVEL = null), checkApiEnvironment, /LOG_LEVEL is passed through/],
      ['NODE_ENV not production', (i) => (api(i).environment.NODE_ENV = 'development'), checkApiEnvironment, /NODE_ENV/],
      ['JWT secret with a default', (i) => (api(i).environment.FLEETGRAPH_JWT_SECRET = '${FLEETGRAPH_JWT_SECRET:-dev}'), checkApiEnvironment, /FLEETGRAPH_JWT_SECRET must be required/],
      ['encryption key hard-coded', (i) => (api(i).environment.FLEETGRAPH_ENCRYPTION_KEY = 'abc'), checkApiEnvironment, /FLEETGRAPH_ENCRYPTION_KEY must be required/],
      ['stale optional entry', () => (OPTIONAL_IN_COMPOSE.NOT_READ = 'test'), checkApiEnvironment, /OPTIONAL_IN_COMPOSE lists NOT_READ/],
      ['built from elsewhere', (i) => (api(i).build = { context: './docker' }), checkBuild, /built from \.\/docker/],
      ['postgres only started', (i) => (api(i).depends_on.postgres.condition = 'service_started'), checkDependencies, /postgres with condition service_healthy/],
      ['redis not a dependency', (i) => delete api(i).depends_on.redis, checkDependencies, /redis with condition service_healthy/],
      ['depends_on as a list', (i) => (api(i).depends_on = ['postgres', 'redis']), checkDependencies, /postgres with condition service_healthy/],
      ['redis without healthcheck', (i) => delete i.compose.services.redis.healthcheck, checkDependencies, /redis needs a healthcheck/],
      ['postgres healthcheck not pg_isready', (i) => (i.compose.services.postgres.healthcheck.test = ['CMD', 'true']), checkDependencies, /postgres needs a healthcheck/],
      ['api healthcheck on /healthz', (i) => (api(i).healthcheck.test = ['CMD', 'wget', '-q', 'http://127.0.0.1:4000/healthz']), checkDependencies, /\/readyz/],
      [
        'DATABASE_URL on localhost',
        (i) => (api(i).environment.DATABASE_URL = 'postgres://fleetgraph:fleetgraph-dev-password@localhost:5432/fleetgraph'),
        checkUrls,
        /DATABASE_URL must point at the postgres service/,
      ],
      ['REDIS_URL at another host', (i) => (api(i).environment.REDIS_URL = 'redis://cache:6379'), checkUrls, /REDIS_URL must point at the redis service/],
      ['REDIS_URL wrong port', (i) => (api(i).environment.REDIS_URL = 'redis://redis:6380'), checkUrls, /REDIS_URL uses port 6380/],
      [
        'postgres service renamed',
        (i) => {
          i.compose.services.db = i.compose.services.postgres;
          delete i.compose.services.postgres;
        },
        checkUrls,
        /there is no postgres service/,
      ],
      ['database password differs', (i) => (i.compose.services.postgres.environment.POSTGRES_PASSWORD = 'other'), checkUrls, /DATABASE_URL credentials/],
      ['port mapping to another port', (i) => (api(i).ports = ['4000:8080']), checkPorts, /targets 8080 but the Dockerfile EXPOSEs 4000/],
      ['no port published', (i) => delete api(i).ports, checkPorts, /publishes no port/],
      ['EXPOSE changed', (i) => (i.dockerfile = i.dockerfile.replace(/^EXPOSE 4000$/m, 'EXPOSE 3000')), checkPorts, /EXPOSEs 3000/],
      ['PORT changed', (i) => (api(i).environment.PORT = '5000'), checkPorts, /api PORT is 5000/],
      ['vault not in dev mode', (i) => (i.compose.services.vault.command = ['server']), checkVault, /dev mode/],
      ['vault token mismatch', (i) => (api(i).environment.VAULT_TOKEN = 'something-else'), checkVault, /VAULT_TOKEN/],
      ['vault listening on loopback', (i) => delete i.compose.services.vault.environment.VAULT_DEV_LISTEN_ADDRESS, checkVault, /0\.0\.0\.0:8200/],
      ['docker socket mounted', (i) => (api(i).volumes = ['/var/run/docker.sock:/var/run/docker.sock']), checkNoDockerSocket, /mounts the docker socket/],
      ['runs as root', (i) => (i.dockerfile = i.dockerfile.replace(/^USER .*$/m, 'USER root')), checkDockerfile, /non-root USER/],
      ['no USER', (i) => (i.dockerfile = i.dockerfile.replace(/^USER .*$/m, '')), checkDockerfile, /non-root USER/],
      ['CMD path wrong', (i) => (i.dockerfile = i.dockerfile.replace(/^CMD .*$/m, 'CMD ["node", "dist/main.js"]')), checkDockerfile, /CMD is/],
      ['outDir drifts from npm start', (i) => (i.buildOptions = { ...i.buildOptions, rootDir: 'src' }), checkDockerfile, /npm start runs dist\/src\/main\.js but/],
      ['dev deps in runtime', (i) => (i.dockerfile = i.dockerfile.replace('npm ci --omit=dev', 'npm ci')), checkDockerfile, /--omit=dev/],
      ['built with tsconfig.json', (i) => (i.dockerfile = i.dockerfile.replace('-p tsconfig.build.json', '-p tsconfig.json')), checkDockerfile, /tsconfig\.build\.json/],
      ['healthcheck missing', (i) => (i.dockerfile = i.dockerfile.replace(/^HEALTHCHECK[^\n]*\\\n[^\n]*$/m, '')), checkDockerfile, /HEALTHCHECK/],
      ['other base image', (i) => (i.dockerfile = i.dockerfile.replace('FROM node:20-bookworm-slim AS runtime', 'FROM node:22 AS runtime')), checkDockerfile, /FROM node:22/],
      ['src not in build context', (i) => (i.dockerignore = i.dockerignore.replace(/^!src\/$/m, '')), checkDockerignore, /copies src, which \.dockerignore excludes/],
      ['node_modules in build context', (i) => (i.dockerignore += '\n!node_modules/\n'), checkDockerignore, /lets node_modules/],
    ];
    afterEach(() => {
      delete OPTIONAL_IN_COMPOSE.NOT_READ;
    });
    it.each(cases)('%s', (_name, mutate, check, expected) => {
      const broken = clone();
      mutate(broken);
      const problems = check(broken);
      expect(problems.join('\n')).toMatch(expected);
    });

    it('source scan: an unlisted variable, a stale entry, a dynamic read', () => {
      const files = { 'src/x.ts': "const a = process.env.FLEETGRAPH_SNEAKY; const b = env['PORT']; const c = process.env[name];" };
      const problems = checkEnvVarsMatchSource(files, ['PORT', 'FLEETGRAPH_GONE']).join('\n');
      expect(problems).toMatch(/reads FLEETGRAPH_SNEAKY, which ENV_VARS .* does not list/);
      expect(problems).toMatch(/ENV_VARS lists FLEETGRAPH_GONE but no source file reads it/);
      expect(problems).toMatch(/dynamic environment access process\.env\[name\]/);
      expect(problems).not.toMatch(/reads PORT/);
    });
  });
});
