import { containerRefreshes } from '../../src/modules/hosts/ingest';
import type { RawDockerEvent } from '../../src/infra/engine/event-stream';

const event = (id: string, action: string, type = 'container'): RawDockerEvent => ({ Type: type, Action: action, Actor: { ID: id, Attributes: {} }, scope: 'local', time: 1, timeNano: '1' });
const ID = (c: string) => c.repeat(64);

describe('containerRefreshes: which containers a batch of events asks to re-inspect', () => {
  it('keeps the last refreshing action per container, destroy included', () => {
    const got = containerRefreshes([event(ID('a'), 'create'), event(ID('a'), 'start'), event(ID('b'), 'destroy'), event(ID('c'), 'exec_start: sh')]);
    expect([...got]).toEqual([
      [ID('a'), 'start'],
      [ID('b'), 'destroy'],
    ]);
  });

  it('ignores ids Docker never makes (an engine naming 64 KiB ids would fill the list with them) and other types', () => {
    const got = containerRefreshes([
      event('x'.repeat(65_536), 'start'),
      event(ID('A'), 'start'),
      event(`${ID('a')}/../x`, 'start'),
      event(ID('d').slice(1), 'start'),
      event(ID('e'), 'start', 'network'),
    ]);
    expect(got.size).toBe(0);
  });
});
