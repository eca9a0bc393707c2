import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BuildImageDocument, CreateContainerDocument, HostEventsDocument, HostSyncStateDocument, OnContainerLogsDocument, RegisterDockerHostDocument } from '../../src/generated/graphql';
import { LOG_LINE_MAX_BYTES } from '../../src/infra/engine/framing';
import { eventually, startTestApp, subscribe, TestApp } from '../support/app';
import { TEST_IMAGE, cleanupDocker, docker, dockerEndpoint, tarBase64, uniqueName } from '../support/docker';

/**
 * Issue 7, "every buffer bounded" (streams): a hostile daemon streaming /events without a
 * newline and a container printing one endless line must neither stall the API's event loop nor
 * grow its memory. The app runs in this process, so this process's RSS is the API's.
 */

const MB = 1024 * 1024;
const FLOOD_BYTES = 50 * MB;
const SOCKET_DIR = '/tmp/fleetgraph-test';
const ALLOW_ENV = { FLEETGRAPH_ENDPOINT_ALLOW: `unix:${SOCKET_DIR}/,127.0.0.1/32` };

/**
 * A fake Docker daemon (a child process, so its own memory and CPU are not measured): answers
 * what the host supervisor calls; on the first /events, each time it reads GO on stdin, it streams
 * FLOOD_BYTES of "x" without a newline, then one valid event, and reports "FLOODED <round>".
 */
const FAKE_DAEMON = `
const http = require('node:http');
const fs = require('node:fs');
const { randomUUID } = require('node:crypto');
const [sock, total, eventJson] = process.argv.slice(1);
const engineId = randomUUID();
// each GO line on stdin starts one flood; stdin's end means the test process is gone
const gos = [];
let onGo = () => undefined;
process.stdin.on('data', (d) => { for (const m of String(d).match(/GO/g) ?? []) { gos.push(m); onGo(); } });
process.stdin.on('end', () => process.exit(0));
function flooder(res) {
  let round = 0;
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const next = () => {
    if (gos.length === 0) return (onGo = next);
    gos.shift();
    onGo = () => undefined;
    round++;
    let sent = 0;
    const pump = () => {
      while (sent < Number(total)) {
        sent += chunk.length;
        if (!res.write(chunk)) return res.once('drain', pump);
      }
      res.write('\\n' + eventJson.replace('ROUND', String(round)) + '\\n');
      console.log('FLOODED ' + round);
      next();
    };
    pump();
  };
  next();
}
let floods = 0;
const server = http.createServer((req, res) => {
  const path = req.url.replace(/^\\/v[\\d.]+/, '').split('?')[0];
  const headers = { 'Api-Version': '1.41', 'Docker-Experimental': 'false', Ostype: 'linux', Server: 'Docker/20.10.0 (linux)' };
  const json = (code, body) => { res.writeHead(code, { ...headers, 'Content-Type': 'application/json' }); res.end(JSON.stringify(body)); };
  if (path === '/_ping') { res.writeHead(200, { ...headers, 'Content-Type': 'text/plain' }); return res.end('OK'); }
  if (path === '/version') return json(200, { Version: '20.10.0', ApiVersion: '1.41', MinAPIVersion: '1.12', Os: 'linux', Arch: 'amd64' });
  if (path === '/info') return json(200, { ID: engineId, Name: 'fake', ServerVersion: '20.10.0', OperatingSystem: 'fake', OSType: 'linux', Architecture: 'x86_64', NCPU: 1, MemTotal: 1024, Driver: 'fake', Swarm: { LocalNodeState: 'inactive', NodeID: '' } });
  if (path === '/containers/json' || path === '/images/json' || path === '/networks') return json(200, []);
  if (path === '/volumes') return json(200, { Volumes: [], Warnings: [] });
  if (path === '/events') {
    res.writeHead(200, { ...headers, 'Content-Type': 'application/json' });
    res.flushHeaders();
    if (floods++ === 0) flooder(res); // later readers: an idle stream
    return;
  }
  json(404, { message: 'page not found' });
});
try { fs.unlinkSync(sock); } catch {}
server.listen(sock, () => console.log('READY'));
`;

function startFakeDaemon(sock: string, eventJson: string) {
  const child = spawn(process.execPath, ['-e', FAKE_DAEMON, sock, String(FLOOD_BYTES), eventJson], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const seen = (word: string) =>
    eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`fake daemon exited (${child.exitCode}) before ${word}`);
        return out.includes(`${word}\n`);
      },
      30_000,
      20,
    );
  return {
    child,
    ready: () => seen('READY'),
    /** Streams FLOOD_BYTES without a newline, then the event (ROUND replaced by `round`); resolves when written. */
    flood: (round: number) => {
      child.stdin!.write('GO\n');
      return seen(`FLOODED ${round}`);
    },
  };
}

/** Samples this process's RSS and /healthz latency until stopped; reports the maxima. */
function monitor(url: string) {
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const baseRss = process.memoryUsage().rss;
  let maxRss = baseRss;
  let maxHealthMs = 0;
  let polls = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      const res = await fetch(`${url}/healthz`);
      await res.arrayBuffer();
      maxHealthMs = Math.max(maxHealthMs, performance.now() - t0);
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
      polls++;
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      loopDelay.disable();
      return { rssGrowthMb: (maxRss - baseRss) / MB, maxHealthMs, polls, maxLoopDelayMs: loopDelay.max / 1e6 };
    },
  };
}

describe('every line from a Docker stream is bounded', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    fs.mkdirSync(SOCKET_DIR, { recursive: true });
    t = await startTestApp({ env: ALLOW_ENV, config: { workers: true, sync: { retryBaseMs: 200 } } });
    token = await t.token({ account: 'streams', permissions: ['docker.hosts.manage', 'docker.resources.manage', 'docker.logs.read'] });
  });
  afterAll(async () => {
    await cleanupDocker().catch(() => undefined);
    await t?.stop();
  });

  it('a fake daemon streaming 50 MB of /events without a newline: the loop stays responsive, RSS grows < 100 MB, the next event is read', async () => {
    const sock = `${SOCKET_DIR}/fake-docker-${process.pid}.sock`;
    const actorId = (round: number) => `fake-net-${process.pid}-${round}`;
    const now = Math.floor(Date.now() / 1000);
    const event = JSON.stringify({
      Type: 'network',
      Action: 'create',
      Actor: { ID: `fake-net-${process.pid}-ROUND`, Attributes: { name: 'after-the-flood' } },
      scope: 'local',
      time: now,
      timeNano: now * 1e9,
    });
    const fake = startFakeDaemon(sock, event);
    try {
      await fake.ready();
      const reg = await t.gql(RegisterDockerHostDocument, { input: { name: 'hostile', apiEndpoint: `unix://${sock}`, environment: 'development', syncIntervalSeconds: 3600 } }, token);
      expect(reg.errors).toBeUndefined();
      const hostId = reg.data!.registerDockerHost.host.id;
      // connected: the /events stream is open and the first sync done; the floods are measured alone
      await eventually(async () => (await t.gql(HostSyncStateDocument, { id: hostId }, token)).data?.dockerHost.status === 'CONNECTED', 20_000, 100);
      // three floods on the same stream: RSS must hold across all of them; for latency the best
      // round counts (as in security-limits), so a stall caused by another process on this shared
      // machine is not taken for one of ours (before this change each round stalled for ~20 s)
      const rounds = [];
      for (let round = 1; round <= 3; round++) {
        const mon = monitor(t.url);
        const started = Date.now();
        try {
          await fake.flood(round);
          // the event after the over-long line is stored: the stream went on
          const events = await eventually(
            async () => {
              const r = await t.gql(HostEventsDocument, { id: hostId, filter: { actorId: actorId(round) }, first: 10 }, token);
              return r.data?.dockerHost.events.nodes.length ? r.data.dockerHost.events.nodes : undefined;
            },
            30_000,
            50,
          );
          expect(events[0]).toMatchObject({ type: 'network', action: 'create', actorId: actorId(round) });
        } finally {
          rounds.push({ ...(await mon.stop()), ms: Date.now() - started });
        }
      }
      for (const [i, m] of rounds.entries()) {
        process.stdout.write(
          `events flood ${i + 1}: ${FLOOD_BYTES / MB} MB read in ${m.ms} ms; RSS growth ${m.rssGrowthMb.toFixed(1)} MB; max /healthz ${m.maxHealthMs.toFixed(1)} ms over ${m.polls} polls; max event-loop delay ${m.maxLoopDelayMs.toFixed(1)} ms\n`,
        );
      }
      expect(Math.max(...rounds.map((m) => m.rssGrowthMb))).toBeLessThan(100);
      expect(Math.min(...rounds.map((m) => m.maxHealthMs))).toBeLessThan(100);
      // the over-long lines did not cost the connection
      const state = await t.gql(HostSyncStateDocument, { id: hostId }, token);
      expect(state.data!.dockerHost.status).toBe('CONNECTED');
    } finally {
      fake.child.kill();
      fs.rmSync(sock, { force: true });
    }
  }, 120_000);

  let localHostId: string | undefined;
  /** The test dockerd, registered once. */
  async function localHost(): Promise<string> {
    if (!localHostId) {
      const reg = await t.gql(RegisterDockerHostDocument, { input: { name: 'local', apiEndpoint: dockerEndpoint(), environment: 'development' } }, token);
      expect(reg.errors).toBeUndefined();
      localHostId = reg.data!.registerDockerHost.host.id;
    }
    return localHostId;
  }

  it('containerLogs of a container printing one endless line: cut, marked lines, RSS grows < 100 MB', async () => {
    const hostId = await localHost();
    const name = uniqueName('endless');
    const created = await t.gql(CreateContainerDocument, { input: { hostId, name, image: TEST_IMAGE, command: ['sh', '-c', 'while :; do printf xxxxxxxxxxxxxxxx; done'] } }, token);
    expect(created.errors).toBeUndefined();
    const containerId = created.data!.createContainer.container.id;
    const mon = monitor(t.url);
    const sub = subscribe(t.ws(token), OnContainerLogsDocument, { containerId, follow: true, tail: 100 });
    let m: Awaited<ReturnType<typeof mon.stop>> | undefined;
    try {
      const [first] = await sub.until((r) => r.length > 0, 20_000);
      expect(first.errors).toBeUndefined();
      // keep following while the container writes (Docker sends it all; the API reads and drops it)
      await new Promise((r) => setTimeout(r, 6000));
      m = await mon.stop();
      const logPath = await docker('inspect', '--format', '{{.LogPath}}', name);
      const logBytes = fs.existsSync(logPath) ? fs.statSync(logPath).size : NaN;
      process.stdout.write(
        `endless line: ${(logBytes / MB).toFixed(0)} MB logged by Docker; ${sub.results.length} lines received; RSS growth ${m.rssGrowthMb.toFixed(1)} MB; max /healthz ${m.maxHealthMs.toFixed(1)} ms; max event-loop delay ${m.maxLoopDelayMs.toFixed(1)} ms\n`,
      );
      const lines = sub.results.map((r) => r.data!.containerLogs);
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) {
        expect(l.truncated).toBe(true);
        expect(l.line).toMatch(/^x+$/);
        expect(Buffer.byteLength(`${l.timestamp} ${l.line}`)).toBeLessThanOrEqual(LOG_LINE_MAX_BYTES);
      }
      expect(m.rssGrowthMb).toBeLessThan(100);
    } finally {
      if (!m) await mon.stop();
      sub.unsubscribe();
      await docker('rm', '-f', name).catch(() => undefined);
    }
  }, 90_000);

  it('build output with a 300 KB line keeps it cut and marked', async () => {
    const hostId = await localHost();
    const tag = `${uniqueName('longline')}:1`;
    const context = await tarBase64({ Dockerfile: `FROM ${TEST_IMAGE}\nRUN head -c 300000 /dev/zero | tr '\\0' y; echo; echo after-the-line\n` });
    const built = await t.gql(BuildImageDocument, { input: { hostId, contextTarBase64: context, tags: [tag] } }, token);
    try {
      expect(built.errors).toBeUndefined();
      const log = built.data!.buildImage.log;
      const long = log.filter((l) => l.startsWith('yyyy'));
      expect(long).toHaveLength(1);
      expect(long[0]).toMatch(/^y+…\[line truncated\]$/);
      expect(Buffer.byteLength(long[0].replace('…[line truncated]', ''))).toBeLessThanOrEqual(LOG_LINE_MAX_BYTES);
      expect(log).toContain('after-the-line');
    } finally {
      await docker('image', 'rm', tag).catch(() => undefined);
    }
  }, 90_000);
});
