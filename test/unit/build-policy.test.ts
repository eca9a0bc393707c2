import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import {
  baseImageRefusals,
  DockerfileError,
  dockerfileRefusals,
  CONTEXT_MAX_UNPACKED_BYTES,
  parseDockerfile,
  readContext,
  readDockerfile,
  registryHost,
  registryRefusal,
  reviewDockerfile,
} from '../../src/modules/docker-resources/build-policy';

/** The build policy as pure functions: Dockerfiles are parsed and judged, nothing is built or fetched. */

const fields = (text: string) => dockerfileRefusals(text).map((r) => r.field);

describe('dockerfileRefusals: allowed', () => {
  it.each([
    ['plain build', 'FROM local/busybox:1\nRUN echo hi\n'],
    [
      'every allowed instruction',
      'ARG V=1\nFROM busybox:1 AS base\nMAINTAINER me\nLABEL a=b\nENV X=1\nEXPOSE 80\nWORKDIR /app\nUSER nobody\nVOLUME /data\nSTOPSIGNAL SIGTERM\nSHELL ["/bin/sh","-c"]\nHEALTHCHECK --interval=5s CMD true\nCOPY --chown=1:1 a b /app/\nADD c.tar /opt/\nRUN echo $X\nCMD ["sh"]\nENTRYPOINT ["sh","-c"]\n',
    ],
    ['lowercase instructions', 'from busybox\nrun echo hi\ncopy a /a\n'],
    ['public registry hosts', 'FROM ghcr.io/org/img:1\nFROM registry.example.com:5000/x@sha256:' + 'a'.repeat(64) + '\nFROM 8.8.8.8:5000/img\n'],
    [
      'multi-stage COPY --from a stage name and an index',
      'FROM busybox AS Build\nRUN echo x > /x\nFROM busybox\nCOPY --from=build /x /x\nCOPY --from=0 /x /y\nCOPY --from=docker.io/library/alpine /etc/os-release /r\n',
    ],
    ['FROM a previous stage', 'FROM busybox AS base\nFROM base\n'],
    ['scratch', 'FROM scratch\nCOPY app /\n'],
    ['comments, blank lines and a URL in RUN', '# a comment\n\nFROM busybox\n  # indented comment\nRUN wget http://example.com/ || true\n'],
    ['JSON form with local sources', 'FROM busybox\nCOPY ["a b", "c", "/dst/"]\n'],
    ['ARG with $ outside FROM/ADD/COPY', 'FROM busybox\nARG X=1\nENV Y=$X\nRUN echo ${Y}\n'],
  ])('%s', (_name, text) => {
    expect(dockerfileRefusals(text)).toEqual([]);
  });
});

describe('dockerfileRefusals: refused', () => {
  it.each([
    ['ADD of a loopback URL', 'FROM busybox\nADD http://127.0.0.1:8500/v1/kv/?recurse /x\nRUN cat /x\n', ['dockerfile:2']],
    ['ADD of any URL, upper case scheme', 'FROM busybox\nADD HTTPS://example.com/x /x\n', ['dockerfile:2']],
    ['lowercase add of a URL', 'from busybox\nadd http://169.254.169.254/latest/meta-data/ /m\n', ['dockerfile:2']],
    ['URL hidden by escapes', 'FROM busybox\nADD http:\\/\\/127.0.0.1/x /x\n', ['dockerfile:2']],
    ['URL hidden by quotes', 'FROM busybox\nADD "http"://127.0.0.1/x /x\n', ['dockerfile:2']],
    ['URL in the JSON form', 'FROM busybox\nADD ["http://127.0.0.1/x", "/x"]\n', ['dockerfile:2']],
    ['COPY with a variable source', 'FROM busybox\nARG S=http://127.0.0.1/x\nCOPY $S /x\n', ['dockerfile:3']],
    ['URL split over continuations', 'FROM busybox\nADD \\\n  http://127.0.0.1:8500/x \\\n  /x\n', ['dockerfile:2']],
    ['continuation with a comment and a blank line inside', 'FROM busybox\nRUN echo a \\\n# comment\n\n  && echo b\nADD http://10.0.0.1/x /x\n', ['dockerfile:6']],
    ['escape directive: backtick continuation', '# escape=`\nFROM busybox\nADD `\n  http://127.0.0.1/x `\n  /x\n', ['dockerfile:3']],
    ['escape directive: a backslash at the end is not a continuation', '# escape=`\nFROM busybox\nRUN echo \\\nADD http://127.0.0.1/x /x\n', ['dockerfile:4']],
    ['ONBUILD', 'FROM busybox\nONBUILD ADD http://127.0.0.1/x /x\n', ['dockerfile:2']],
    ['unknown instruction', 'FROM busybox\nFOO bar\n', ['dockerfile:2']],
    ['FROM localhost registry', 'FROM localhost:5000/img\n', ['dockerfile:1']],
    ['FROM localhost without port, upper case', 'FROM LOCALHOST/img\n', ['dockerfile:1']],
    [
      'FROM loopback, private, link-local, unspecified, IPv6 loopback',
      'FROM 127.0.0.1:5000/a\nFROM 10.1.2.3/a\nFROM 169.254.1.1:80/a\nFROM 0.0.0.0:5000/a\nFROM [::1]:5000/a\n',
      ['dockerfile:1', 'dockerfile:2', 'dockerfile:3', 'dockerfile:4', 'dockerfile:5'],
    ],
    ['FROM inet_aton forms of loopback', 'FROM 2130706433:5000/a\nFROM 0x7f.1:5000/a\n', ['dockerfile:1', 'dockerfile:2']],
    ['FROM with a variable', 'ARG REG=localhost:5000\nFROM $REG/img\n', ['dockerfile:2']],
    ['FROM quoted loopback', 'FROM "127.0.0.1:5000/img"\n', ['dockerfile:1']],
    ['COPY --from an image on a private registry', 'FROM busybox\nCOPY --from=192.168.1.10:5000/img /etc/x /x\n', ['dockerfile:2']],
    ['COPY --from quoted (quoted, and a loopback registry)', 'FROM busybox\nCOPY --from="localhost:5000/img" /x /x\n', ['dockerfile:2', 'dockerfile:2']],
    ['COPY --from with a variable', 'FROM busybox\nCOPY --from=$IMG /x /x\n', ['dockerfile:2']],
    [
      'unknown flags (RUN --network=host, ADD --checksum, FROM --platform)',
      'FROM busybox\nRUN --network=host wget -O- http://127.0.0.1/\nADD --checksum=sha256:00 a /a\nFROM --platform=linux/arm64 busybox\n',
      ['dockerfile:2', 'dockerfile:3', 'dockerfile:4'],
    ],
  ])('%s', (_name, text, expected) => {
    expect(fields(text)).toEqual(expected);
  });

  it('lists the base images to check on the engine (not stages, not scratch)', () => {
    const { images } = reviewDockerfile('FROM busybox AS b\nFROM scratch\nFROM b\nCOPY --from=alpine:3 /x /x\nCOPY --from=b /y /y\n');
    expect(images).toEqual([
      { line: 1, ref: 'busybox' },
      { line: 4, ref: 'alpine:3' },
    ]);
  });

  it('refuses base images missing on the engine or with ONBUILD triggers', () => {
    const images = [
      { line: 1, ref: 'a' },
      { line: 2, ref: 'b' },
      { line: 3, ref: 'c' },
    ];
    const onEngine = new Map([
      ['a', { onBuild: [] }],
      ['b', { onBuild: ['ADD http://127.0.0.1/x /x'] }],
      ['c', null],
    ]);
    expect(baseImageRefusals(images, onEngine).map((r) => r.field)).toEqual(['dockerfile:2', 'dockerfile:3']);
  });

  it('names the instruction and the reason', () => {
    const [r] = dockerfileRefusals('FROM busybox\nADD http://127.0.0.1:9/x /x\n');
    expect(r).toEqual({ field: 'dockerfile:2', reason: 'ADD source must be a path in the context, not a URL' });
  });
});

describe('parseDockerfile', () => {
  it('joins continuations, keeps the start line, reads flags and JSON', () => {
    const ins = parseDockerfile('\uFEFF# syntax=x\r\nFROM --platform=linux/amd64 busybox AS b\r\n\r\ncopy --chown=1 \\\r\n  ["a", "/b"]\r\n');
    expect(ins.map((i) => [i.line, i.keyword])).toEqual([
      [2, 'from'],
      [4, 'copy'],
    ]);
    expect(ins[0].flags).toEqual([{ name: 'platform', value: 'linux/amd64', raw: '--platform=linux/amd64' }]);
    expect(ins[1].json).toEqual(['a', '/b']);
  });

  it('an unknown directive ends the directives (a later escape= is a comment)', () => {
    const ins = parseDockerfile('# foo=bar\n# escape=`\nFROM busybox\nRUN a `\nADD x y\n');
    expect(ins.map((i) => i.keyword)).toEqual(['from', 'run', 'add']);
  });

  it('a directive line with a megabyte of blanks is read in one pass (the directive pattern backtracked)', () => {
    expect(parseDockerfile(`#escape=\`${' '.repeat(1024 * 1024)}\nFROM busybox\nRUN a \`\n  b\n`).map((i) => i.keyword)).toEqual(['from', 'run']);
    expect(() => parseDockerfile(`# escape=a${' '.repeat(1024 * 1024)}b\nFROM busybox\n`)).toThrow(/escape must be/);
  });

  it.each([
    ['a bad escape', '# escape=x\nFROM busybox\n'],
    ['a repeated directive', '# escape=`\n# escape=\\\nFROM busybox\n'],
    ['a NUL byte', 'FROM busybox\0\n'],
    // JavaScript's trim() takes U+FEFF for a blank line inside the RUN's continuation; Go (dockerd) does
    // not, and ends the RUN there: the ADD would run as an instruction this review never saw
    ['a U+FEFF line inside a continuation', 'FROM busybox\nRUN true \\\n\uFEFF\nADD http://169.254.169.254/latest/meta-data/ /m\n'],
    ['a no-break space', 'FROM busybox\nRUN\u00a0true\n'],
    ['a vertical tab', 'FROM busybox\nRUN true\v\n'],
    ['a zero-width space', 'FROM busybox\nRUN true\u200b\n'],
  ])('refuses %s', (_n, text) => {
    expect(() => parseDockerfile(text)).toThrow(DockerfileError);
  });
});

describe('registryRefusal', () => {
  it.each([
    ['busybox', null],
    ['library/busybox:1', null],
    ['ghcr.io/a/b', 'ghcr.io'],
    ['localhost:5000/a', 'localhost'],
    ['[::1]:5000/a', '::1'],
    ['Registry.Example.com./a', 'registry.example.com'],
  ])('registryHost(%s)', (ref, host) => expect(registryHost(ref)).toBe(host));

  it.each([
    'localhost/a',
    'localhost:5000/a',
    'foo.localhost/a',
    '127.0.0.1:9/foo',
    '10.0.0.1/a',
    '172.16.0.1/a',
    '192.168.0.1/a',
    '169.254.169.254/a',
    '0.0.0.0/a',
    '[::1]/a',
    '[fe80::1]:5000/a',
    '[fd00::1]/a',
    '[::ffff:127.0.0.1]/a',
    '100.64.0.1/a',
  ])('refuses %s', (ref) => expect(registryRefusal(ref)).not.toBeNull());

  it.each(['busybox', 'local/busybox:1', 'ghcr.io/a/b', '8.8.8.8:5000/a', 'registry-1.docker.io/library/a'])('allows %s', (ref) => expect(registryRefusal(ref)).toBeNull());
});

describe('readDockerfile', () => {
  async function tar(entries: Array<{ name: string; type?: 'file' | 'symlink' | 'directory'; content?: string; linkname?: string }>): Promise<Buffer> {
    const p = pack();
    for (const e of entries) {
      if (e.type && e.type !== 'file') p.entry({ name: e.name, type: e.type, linkname: e.linkname });
      else p.entry({ name: e.name }, e.content ?? '');
    }
    p.finalize();
    const chunks: Buffer[] = [];
    for await (const c of p) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  it('finds the named Dockerfile (./ prefix, subdirectory, gzip) and falls back to dockerfile', async () => {
    const ctx = await tar([
      { name: 'x', content: '1' },
      { name: './Dockerfile', content: 'FROM a' },
      { name: 'sub/Build', content: 'FROM b' },
    ]);
    expect(await readDockerfile(ctx, 'Dockerfile')).toBe('FROM a');
    expect(await readDockerfile(gzipSync(ctx), 'sub/Build')).toBe('FROM b');
    expect(await readDockerfile(await tar([{ name: 'dockerfile', content: 'FROM c' }]), 'Dockerfile')).toBe('FROM c');
  });

  it.each([
    ['missing', [{ name: 'other', content: 'x' }], 'Dockerfile'],
    ['a symlink', [{ name: 'Dockerfile', type: 'symlink' as const, linkname: 'evil' }], 'Dockerfile'],
    [
      'given twice',
      [
        { name: 'Dockerfile', content: 'FROM a' },
        { name: 'Dockerfile', content: 'FROM b' },
      ],
      'Dockerfile',
    ],
    [
      'below a directory that becomes a link',
      [
        { name: 'sub/Dockerfile', content: 'FROM a' },
        { name: 'sub', type: 'symlink' as const, linkname: 'evil' },
      ],
      'sub/Dockerfile',
    ],
  ])('refuses a Dockerfile %s', async (_n, entries, name) => {
    await expect(readDockerfile(await tar(entries), name)).rejects.toThrow(DockerfileError);
  });

  it('packs the context again from what it reviewed: an archive that goes on after its end marker is read by dockerd as it was reviewed', async () => {
    // tar-stream reads on past the end marker (two zero blocks); Go's reader, like GNU tar, stops there
    const hidden = await tar([{ name: 'dockerfile', content: 'FROM busybox\nADD http://169.254.169.254/latest/meta-data/ /m\n' }]);
    const shown = await tar([{ name: 'Dockerfile', content: 'FROM busybox\n' }]);
    const crafted = Buffer.concat([hidden, shown]);
    const list = (archive: Buffer) => execFileSync('tar', ['-t'], { input: archive }).toString().split('\n').filter(Boolean).sort();
    expect(list(crafted)).toEqual(['dockerfile']);
    const { dockerfile, context } = await readContext(crafted, 'Dockerfile');
    expect(dockerfile).toBe('FROM busybox\n');
    // what dockerd is sent holds the reviewed Dockerfile where its reader looks
    expect(list(context)).toEqual(['Dockerfile', 'dockerfile']);
    expect(execFileSync('tar', ['-xO', 'Dockerfile'], { input: context }).toString()).toBe('FROM busybox\n');
  });

  it('takes `Dockerfile/` (a file) for the Dockerfile, as dockerd cleans the name: given beside Dockerfile it is given twice', async () => {
    expect(await readDockerfile(await tar([{ name: 'Dockerfile/', content: 'FROM a' }]), 'Dockerfile')).toBe('FROM a');
    const both = await tar([
      { name: 'Dockerfile', content: 'FROM a' },
      { name: 'Dockerfile/', content: 'FROM b' },
    ]);
    await expect(readDockerfile(both, 'Dockerfile')).rejects.toThrow(DockerfileError);
  });

  it('refuses a context that unpacks to more than CONTEXT_MAX_UNPACKED_BYTES (a gzip bomb)', async () => {
    const p = pack();
    p.entry({ name: 'Dockerfile' }, 'FROM a');
    p.entry({ name: 'zeros' }, Buffer.alloc(CONTEXT_MAX_UNPACKED_BYTES + 1));
    p.finalize();
    const chunks: Buffer[] = [];
    for await (const c of p) chunks.push(c as Buffer);
    const bomb = gzipSync(Buffer.concat(chunks));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    await expect(readDockerfile(bomb, 'Dockerfile')).rejects.toThrow(/unpacks to more than/);
  });

  it('refuses what is not a tar archive', async () => {
    await expect(readDockerfile(Buffer.from('not a tar archive at all'), 'Dockerfile')).rejects.toThrow(DockerfileError);
  });
});
