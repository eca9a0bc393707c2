import { LineFramer, utf8Boundary } from '../../src/infra/engine/framing';
import { Demuxer, LineAssembler } from '../../src/infra/engine/logs';
import { LineSplitter } from '../../src/infra/engine/event-stream';

const texts = (lines: Array<{ text: string }>) => lines.map((l) => l.text);

/** A Docker multiplexed frame: [stream, 0, 0, 0, size BE] + payload. */
function frame(stream: 1 | 2, payload: string): Buffer {
  const data = Buffer.from(payload, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

describe('bounded line framing (no Docker needed)', () => {
  it('splits lines across chunks, several per chunk, and keeps the partial line for flush', () => {
    const f = new LineFramer(1024);
    expect(texts(f.push('ab'))).toEqual([]);
    expect(texts(f.push('c\nde\n\nf'))).toEqual(['abc', 'de', '']);
    expect(texts(f.push(Buffer.from('g\r\nh')))).toEqual(['fg']);
    expect(f.flush()).toEqual([{ text: 'h', truncated: false }]);
    expect(f.flush()).toEqual([]);
  });

  it('decodes multi-byte characters split across chunks, byte by byte', () => {
    const f = new LineFramer(1024);
    const bytes = Buffer.from('héllo → 世界 🐳\nzwei\n', 'utf8');
    const out = [...bytes].flatMap((b) => f.push(Buffer.from([b])));
    expect(texts(out)).toEqual(['héllo → 世界 🐳', 'zwei']);
    expect(out.every((l) => !l.truncated)).toBe(true);
  });

  it('cuts an over-long line at the maximum, marks it, drops the rest up to the newline and goes on', () => {
    const f = new LineFramer(8);
    expect(f.push('12345678\n')).toEqual([{ text: '12345678', truncated: false }]); // exactly the maximum: whole
    // the cut line is handed on as soon as it passes the maximum, not at its end
    expect(f.push('abcdefghij')).toEqual([{ text: 'abcdefgh', truncated: true }]);
    expect(f.push('klmnop')).toEqual([]);
    expect(f.push('qrs\nnext\n')).toEqual([{ text: 'next', truncated: false }]);
    expect(f.droppedBytes).toBe(11);
    expect(f.truncatedLines).toBe(1);
    // a cut line that never ends is not handed on again by flush
    f.push('0123456789');
    expect(f.flush()).toEqual([]);
  });

  it('cuts on a UTF-8 character boundary', () => {
    const f = new LineFramer(8);
    // "aaaaaaa" (7 bytes) + "é" (2 bytes): the cut at 8 would split "é"
    expect(f.push('aaaaaaaé\n')).toEqual([{ text: 'aaaaaaa', truncated: true }]);
    const emoji = Buffer.from('🐳', 'utf8');
    expect(utf8Boundary(emoji, 3)).toBe(0);
    expect(utf8Boundary(emoji, 4)).toBe(4);
    expect(utf8Boundary(Buffer.from('aé'), 2)).toBe(1);
    expect(utf8Boundary(Buffer.from('abc'), 3)).toBe(3);
  });

  it('50 MB without a newline in 64 KiB chunks: linear time, memory bounded by the maximum', () => {
    const f = new LineFramer(64 * 1024);
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const heap = process.memoryUsage().heapUsed;
    const started = process.hrtime.bigint();
    const out = [];
    for (let sent = 0; sent < 50 * 1024 * 1024; sent += chunk.length) out.push(...f.push(chunk));
    out.push(...f.push('\n{"ok":1}\n'));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(out.map((l) => [l.text.length, l.truncated])).toEqual([
      [64 * 1024, true],
      [8, false],
    ]);
    expect(f.droppedBytes).toBe(50 * 1024 * 1024 - 64 * 1024);
    expect(ms).toBeLessThan(1000);
    expect(process.memoryUsage().heapUsed - heap).toBeLessThan(20 * 1024 * 1024);
  });

  it('the event splitter drops over-long lines and keeps reading', () => {
    const s = new LineSplitter(16);
    expect(s.push('{"a":1}\n' + 'y'.repeat(40) + '\n\n{"b":2}\n')).toEqual(['{"a":1}', '{"b":2}']);
    expect(s.skipped).toBe(1);
    const big = new LineSplitter();
    const started = Date.now();
    for (let i = 0; i < 800; i++) big.push(Buffer.alloc(64 * 1024, 'z'));
    expect(big.push('\n{"c":3}\n')).toEqual(['{"c":3}']);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('the demuxer streams a frame through in pieces: a header announcing 4 GiB buffers nothing', () => {
    const d = new Demuxer(false);
    const header = Buffer.alloc(8);
    header[0] = 1;
    header.writeUInt32BE(0xffffffff, 4);
    // header split across chunks
    expect(d.push(header.subarray(0, 3))).toEqual([]);
    const first = d.push(Buffer.concat([header.subarray(3), Buffer.from('abc')]));
    expect(first.map((p) => [p.stream, p.data.toString()])).toEqual([['stdout', 'abc']]);
    const piece = Buffer.alloc(1024 * 1024, 'q');
    for (let i = 0; i < 64; i++) expect(d.push(piece)).toHaveLength(1);
  });

  it('the demuxer splits frames of both streams anywhere, the assembler joins them into lines per stream', () => {
    const bytes = Buffer.concat([
      frame(1, '2024-01-01T00:00:00.000000001Z out-1\n2024-01-01T00:00:00.000000002Z o'),
      frame(2, '2024-01-01T00:00:00.000000003Z err-1\n'),
      frame(1, 'ut-2\n'),
      frame(2, '2024-01-01T00:00:00.000000004Z é'),
    ]);
    for (const size of [1, 3, 7, 1000]) {
      const d = new Demuxer(false);
      const a = new LineAssembler(true);
      const lines = [];
      for (let i = 0; i < bytes.length; i += size) for (const f of d.push(bytes.subarray(i, i + size))) lines.push(...a.push(f.stream, f.data));
      lines.push(...a.flush());
      expect(lines).toEqual([
        { stream: 'stdout', timestamp: '2024-01-01T00:00:00.000000001Z', line: 'out-1', truncated: false },
        { stream: 'stderr', timestamp: '2024-01-01T00:00:00.000000003Z', line: 'err-1', truncated: false },
        { stream: 'stdout', timestamp: '2024-01-01T00:00:00.000000002Z', line: 'out-2', truncated: false },
        { stream: 'stderr', timestamp: '2024-01-01T00:00:00.000000004Z', line: 'é', truncated: false },
      ]);
    }
  });

  it('log lines are cut at the maximum and marked; the timestamp is still read', () => {
    const a = new LineAssembler(true, 64);
    const ts = '2024-01-01T00:00:00.000000001Z';
    const out = a.push('stdout', Buffer.from(`${ts} ${'x'.repeat(100)}\n${ts} short\n`));
    expect(out).toEqual([
      { stream: 'stdout', timestamp: ts, line: 'x'.repeat(64 - ts.length - 1), truncated: true },
      { stream: 'stdout', timestamp: ts, line: 'short', truncated: false },
    ]);
  });
});
