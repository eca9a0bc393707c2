import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BuildImageDocument, PullImageDocument, PushImageDocument } from '../../src/generated/graphql';
import { startTestApp, TestApp } from '../support/app';
import { TEST_IMAGE, cleanupDocker, docker, registerLocalHost, tarBase64, uniqueName } from '../support/docker';
import { sql } from '../support/db';

/**
 * Builds, pulls and pushes against the real dockerd: without docker.containers.privileged a
 * Dockerfile may not make the daemon fetch from the host's network (ADD of a URL, a base image on
 * a loopback registry), and pull/push may not name a loopback or private registry. Refusals are
 * FORBIDDEN, audited nowhere and leave no image. Only 127.0.0.1:9 (nothing listens) is ever named.
 */
const MANAGE = ['docker.hosts.manage', 'docker.resources.manage'];
const PRIVILEGED = [...MANAGE, 'docker.containers.privileged'];

describe('build and registry policy on a real dockerd', () => {
  let t: TestApp;
  let token: string;
  let privileged: string;
  let hostId: string;

  beforeAll(async () => {
    t = await startTestApp();
    token = await t.token({ account: 'buildpolicy', permissions: MANAGE });
    privileged = await t.token({ account: 'buildpolicy', permissions: PRIVILEGED });
    hostId = await registerLocalHost(t, token);
  });
  afterAll(async () => {
    await cleanupDocker();
    await t?.stop();
  });

  const activities = async (action: string) => (await sql(t.databaseUrl, 'select count(*)::int as n from docker_activities where action = $1', [action]))[0].n as number;
  const noImage = async (ref: string) => expect(await docker('images', '-q', ref)).toBe('');

  it('refuses ADD of a loopback URL without the permission: FORBIDDEN naming the line, no image, no audit row', async () => {
    const tag = `${uniqueName('addurl')}:1`;
    const context = await tarBase64({ Dockerfile: `FROM ${TEST_IMAGE}\nADD http://127.0.0.1:9/x /x\nRUN cat /x\n` });
    const before = await activities('image.build');
    const res = await t.gql(BuildImageDocument, { input: { hostId, contextTarBase64: context, tags: [tag] } }, token);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', permission: 'docker.containers.privileged', field: 'dockerfile:2' });
    expect(res.errors![0].message).toMatch(/^dockerfile:2: ADD source must be a path in the context, not a URL: needs the permission/);
    await noImage(tag);
    expect(await activities('image.build')).toBe(before);

    // with the permission the daemon is asked (and fails: nothing listens on 127.0.0.1:9)
    const allowed = await t.gql(BuildImageDocument, { input: { hostId, contextTarBase64: context, tags: [tag] } }, privileged);
    expect(allowed.errors?.[0].extensions?.code).toBe('DOCKER_ERROR');
    await noImage(tag);
  });

  it('refuses a base image on a loopback registry, hidden by a continuation, and a Dockerfile under another name', async () => {
    const tag = `${uniqueName('fromlocal')}:1`;
    const context = await tarBase64({ 'build/App.dockerfile': `# escape=\`\nFROM \`\n  localhost:9/img\nRUN echo hi\n` });
    const res = await t.gql(BuildImageDocument, { input: { hostId, contextTarBase64: context, dockerfile: 'build/App.dockerfile', tags: [tag] } }, token);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'dockerfile:2' });
    await noImage(tag);
  });

  it('refuses a base image whose ONBUILD triggers would fetch a URL (made with the permission)', async () => {
    const base = `${uniqueName('onbuild')}:1`;
    const made = await t.gql(
      BuildImageDocument,
      { input: { hostId, contextTarBase64: await tarBase64({ Dockerfile: `FROM ${TEST_IMAGE}\nONBUILD ADD http://127.0.0.1:9/x /x\n` }), tags: [base] } },
      privileged,
    );
    expect(made.errors).toBeUndefined();
    try {
      const tag = `${uniqueName('child')}:1`;
      const res = await t.gql(BuildImageDocument, { input: { hostId, contextTarBase64: await tarBase64({ Dockerfile: `FROM ${base}\nRUN cat /x\n` }), tags: [tag] } }, token);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'dockerfile:1' });
      expect(res.errors![0].message).toMatch(/ONBUILD triggers/);
      await noImage(tag);
    } finally {
      await docker('image', 'rm', base);
    }
  });

  it('builds what it reviewed: a context that goes on after its tar end marker cannot slip dockerd another Dockerfile', async () => {
    // an HTTP server on loopback stands in for the cloud metadata service: it must never be asked
    let asked = 0;
    const server = http.createServer((_req, res) => {
      asked++;
      res.end('secret');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      // dockerd's tar reader stops at the first end marker: it sees only `dockerfile` (its fallback name)
      const hidden = Buffer.from(await tarBase64({ dockerfile: `FROM ${TEST_IMAGE}\nADD http://127.0.0.1:${port}/m /m\n` }), 'base64');
      const shown = Buffer.from(await tarBase64({ Dockerfile: `FROM ${TEST_IMAGE}\nRUN echo shown > /shown\n` }), 'base64');
      const tag = `${uniqueName('tarend')}:1`;
      const res = await t.gql(BuildImageDocument, { input: { hostId, contextTarBase64: Buffer.concat([hidden, shown]).toString('base64'), tags: [tag] } }, token);
      try {
        expect(res.errors).toBeUndefined();
        expect(asked).toBe(0);
        expect((await docker('run', '--rm', tag, 'cat', '/shown')).trim()).toBe('shown');
      } finally {
        await docker('image', 'rm', '-f', tag).catch(() => undefined);
      }
    } finally {
      server.close();
    }
  });

  it('a context without the Dockerfile is BAD_USER_INPUT', async () => {
    const context = await tarBase64({ 'other.txt': 'x' });
    const res = await t.gql(BuildImageDocument, { input: { hostId, contextTarBase64: context, tags: [`${uniqueName('nodf')}:1`] } }, token);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'dockerfile' });
  });

  it('a plain build still works without the permission', async () => {
    const tag = `${uniqueName('plain')}:1`;
    const context = await tarBase64({ dockerfile: `from ${TEST_IMAGE}\nrun echo hi \\\n  && echo there\nCOPY ["a.txt", "/a.txt"]\n`, 'a.txt': 'a\n' });
    const res = await t.gql(BuildImageDocument, { input: { hostId, contextTarBase64: context, tags: [tag] } }, token);
    expect(res.errors).toBeUndefined();
    expect(res.data!.buildImage.log.join('\n')).toMatch(/hi\s*\n?there/);
    expect(await docker('run', '--rm', tag, 'cat', '/a.txt')).toBe('a');
    await docker('image', 'rm', tag);
  });

  it('refuses pull and push of a loopback registry without the permission; with it Docker is asked', async () => {
    const before = [await activities('image.pull'), await activities('image.push')];
    const pull = await t.gql(PullImageDocument, { input: { hostId, image: '127.0.0.1:9/foo', tag: '1' } }, token);
    expect(pull.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', permission: 'docker.containers.privileged', field: 'image' });
    const local = await t.gql(PullImageDocument, { input: { hostId, image: 'localhost:9/foo' } }, token);
    expect(local.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const repo = `127.0.0.1:9/${uniqueName('push')}`;
    await docker('tag', TEST_IMAGE, `${repo}:1`);
    try {
      const push = await t.gql(PushImageDocument, { input: { hostId, image: repo, tag: '1' } }, token);
      expect(push.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'image' });
      expect([await activities('image.pull'), await activities('image.push')]).toEqual(before);
      const allowed = await t.gql(PullImageDocument, { input: { hostId, image: '127.0.0.1:9/foo', tag: '1' } }, privileged);
      expect(allowed.errors?.[0].extensions?.code).toBe('DOCKER_ERROR');
    } finally {
      await docker('image', 'rm', `${repo}:1`);
    }
  });
});
