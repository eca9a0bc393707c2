import { DockerHostDocument, DockerHostsDocument, NodeDocument, RegisterDockerHostDocument, RemoveDockerHostDocument, UpdateDockerHostDocument } from '../../src/generated/graphql';
import { eventually, startTestApp, TestApp } from '../support/app';
import { sql } from '../support/db';
import { dockerEndpoint } from '../support/docker';
import { codes, transports } from '../support/transports';

/**
 * A Docker host's life over HTTP and over graphql-ws, from one definition: the test dockerd
 * (unix socket) is registered, read back, refused bad input, hidden from and refused to another
 * account, and removed — every call through the transport under test, with the same answers.
 * Each transport gets its own app (and database): an engine belongs to one account, so the
 * two runs must not share claims.
 */
describe('docker hosts over every transport', () => {
  for (const tr of transports) {
    describe(tr.name, () => {
      let t: TestApp;
      let manager: string; // docker.hosts.manage
      let reader: string; // same account, no permission
      let stranger: string; // another account, with the permission
      let hostId: string;
      const HOST = `local-${tr.name}`;

      const count = async (table: string) => Number((await sql<{ n: string }>(t.databaseUrl, `select count(*)::text as n from ${table}`))[0].n);
      const stored = async () => ({ hosts: await count('docker_hosts'), activities: await count('docker_activities') });
      const register = (input: Record<string, unknown>, token: string | null = manager) =>
        tr.execute(t, RegisterDockerHostDocument, { input: { name: HOST, apiEndpoint: dockerEndpoint(), environment: 'development', syncIntervalSeconds: 3600, ...input } as never }, token);

      beforeAll(async () => {
        t = await startTestApp({ redis: false, config: { workers: true, sync: { retryBaseMs: 100 } } });
        manager = await t.token({ account: `hosts-${tr.name}`, permissions: ['docker.hosts.manage'] });
        reader = await t.token({ account: `hosts-${tr.name}`, subject: 'reader', permissions: [] });
        stranger = await t.token({ account: `hosts-${tr.name}-other`, permissions: ['docker.hosts.manage'] });
      });
      afterAll(() => t?.stop());

      it('refuses registration by an anonymous caller (UNAUTHENTICATED) and by a member without docker.hosts.manage (FORBIDDEN); nothing is stored', async () => {
        const before = await stored();
        const anon = await register({}, null); // null: anonymous (undefined would take the default)
        expect(codes(anon)).toEqual(['UNAUTHENTICATED']);
        expect(anon.data ?? null).toBeNull();
        const denied = await register({}, reader);
        expect(codes(denied)).toEqual(['FORBIDDEN']);
        expect(denied.errors?.[0].extensions).toMatchObject({ permission: 'docker.hosts.manage' });
        expect(denied.data ?? null).toBeNull();
        expect(await stored()).toEqual(before);
      });

      it.each([
        ['apiEndpoint', { apiEndpoint: 'ftp://10.0.0.1:2375' }, /scheme ftp is not supported/],
        ['apiEndpoint', { apiEndpoint: 'tcp://user:secret@10.0.0.1:2376' }, /must not contain credentials/],
        ['syncIntervalSeconds', { syncIntervalSeconds: 29 }, /./],
        ['name', { name: 'has space' }, /./],
        ['tlsVerify', { tlsVerify: true }, /./],
      ])('refuses a bad %s with BAD_USER_INPUT naming the field, and stores nothing', async (field, input, message) => {
        const before = await stored();
        const res = await register(input);
        expect(codes(res)).toEqual(['BAD_USER_INPUT']);
        expect(res.errors?.[0].extensions).toMatchObject({ field });
        expect(res.errors?.[0].message).toMatch(message);
        expect(JSON.stringify(res)).not.toContain('secret');
        expect(res.data ?? null).toBeNull();
        expect(await stored()).toEqual(before);
      });

      it('registers the local engine and audits it as the caller', async () => {
        const res = await register({});
        expect(res.errors).toBeUndefined();
        const { host, activity } = res.data!.registerDockerHost;
        hostId = host.id;
        expect(host).toMatchObject({ name: HOST, apiEndpoint: dockerEndpoint(), environment: 'development', tlsVerify: false, syncIntervalSeconds: 3600 });
        expect(activity).toMatchObject({ action: 'host.register', status: 'SUCCEEDED', host: { id: hostId, name: HOST }, user: { subject: `hosts-${tr.name}-user` } });
        expect(await stored()).toEqual({ hosts: 1, activities: 1 });
      });

      it('reads it back through dockerHosts, dockerHost(id:) and node(id:), connected to the engine', async () => {
        const h = await eventually(async () => {
          const res = await tr.execute(t, DockerHostDocument, { id: hostId }, manager);
          return res.data?.dockerHost.status === 'CONNECTED' && res.data.dockerHost.dockerVersion ? res.data.dockerHost : undefined;
        });
        expect(h).toMatchObject({ id: hostId, name: HOST, consecutiveFailures: 0, lastError: null });
        const list = await tr.execute(t, DockerHostsDocument, {}, manager);
        expect(list.errors).toBeUndefined();
        expect(list.data!.dockerHosts).toMatchObject({ totalCount: 1, nodes: [{ id: hostId, name: HOST, status: 'CONNECTED' }] });
        const node = await tr.execute(t, NodeDocument, { id: hostId }, manager);
        expect(node).toEqual({ data: { node: { __typename: 'DockerHost', id: hostId } } });
        // reading needs membership only
        const asReader = await tr.execute(t, DockerHostDocument, { id: hostId }, reader);
        expect(asReader.data?.dockerHost.name).toBe(HOST);
        // and a caller
        expect(codes(await tr.execute(t, DockerHostDocument, { id: hostId }))).toEqual(['UNAUTHENTICATED']);
      });

      it('refuses a duplicate name with CONFLICT', async () => {
        const res = await register({});
        expect(codes(res)).toEqual(['CONFLICT']);
        expect(res.errors?.[0].extensions).toMatchObject({ field: 'name' });
        expect(await stored()).toEqual({ hosts: 1, activities: 1 });
      });

      it('is invisible to another account (NOT_FOUND, null node, empty list), which can neither change it nor claim its engine', async () => {
        const one = await tr.execute(t, DockerHostDocument, { id: hostId }, stranger);
        expect(codes(one)).toEqual(['NOT_FOUND']);
        expect(one.data ?? null).toBeNull();
        const node = await tr.execute(t, NodeDocument, { id: hostId }, stranger);
        expect(node.errors).toBeUndefined();
        expect(node.data).toEqual({ node: null });
        const list = await tr.execute(t, DockerHostsDocument, {}, stranger);
        expect(list.data?.dockerHosts).toMatchObject({ totalCount: 0, nodes: [] });
        const update = await tr.execute(t, UpdateDockerHostDocument, { input: { id: hostId, environment: 'hijacked' } }, stranger);
        expect(codes(update)).toEqual(['NOT_FOUND']);
        const remove = await tr.execute(t, RemoveDockerHostDocument, { input: { id: hostId } }, stranger);
        expect(codes(remove)).toEqual(['NOT_FOUND']);
        // the engine is the first account's
        const before = await stored();
        const claim = await register({ name: 'theirs' }, stranger);
        expect(codes(claim)).toEqual(['FORBIDDEN']);
        expect(claim.errors?.[0].extensions).toMatchObject({ reason: 'engine is registered by another account' });
        expect(await stored()).toEqual(before);
        // untouched
        const mine = await tr.execute(t, DockerHostDocument, { id: hostId }, manager);
        expect(mine.data?.dockerHost).toMatchObject({ environment: 'development', name: HOST });
      });

      it('refuses removal without the permission, then removes it; it is gone and its engine is free again', async () => {
        expect(codes(await tr.execute(t, RemoveDockerHostDocument, { input: { id: hostId } }, reader))).toEqual(['FORBIDDEN']);
        expect(await count('docker_hosts')).toBe(1);
        const res = await tr.execute(t, RemoveDockerHostDocument, { input: { id: hostId } }, manager);
        expect(res.errors).toBeUndefined();
        expect(res.data!.removeDockerHost).toMatchObject({ removedId: hostId, activity: { action: 'host.remove', status: 'SUCCEEDED' } });
        expect(await count('docker_hosts')).toBe(0);
        expect(codes(await tr.execute(t, DockerHostDocument, { id: hostId }, manager))).toEqual(['NOT_FOUND']);
        expect((await tr.execute(t, NodeDocument, { id: hostId }, manager)).data).toEqual({ node: null });
        expect(codes(await tr.execute(t, RemoveDockerHostDocument, { input: { id: hostId } }, manager))).toEqual(['NOT_FOUND']);
        // the claim went with its last holder: the other account may now register the engine
        const theirs = await register({ name: 'theirs' }, stranger);
        expect(theirs.errors).toBeUndefined();
        const removed = await tr.execute(t, RemoveDockerHostDocument, { input: { id: theirs.data!.registerDockerHost.host.id } }, stranger);
        expect(removed.errors).toBeUndefined();
      });
    });
  }
});
