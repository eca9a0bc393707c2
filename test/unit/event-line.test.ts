import { parseEventLine } from '../../src/infra/engine/event-stream';

/** What an engine sends on /events is untrusted: a line is an event as Docker documents it, or it is skipped. */
describe('parseEventLine', () => {
  const line = (fields: Record<string, unknown>, timeNano = '1764590000123456789') =>
    JSON.stringify({ Type: 'container', Action: 'start', Actor: { ID: 'abc', Attributes: { name: 'x' } }, scope: 'local', time: 1764590000, ...fields }).replace(/}$/, `,"timeNano":${timeNano}}`);

  it('keeps timeNano exact, beyond what a JSON number holds', () => {
    expect(parseEventLine(line({}))).toMatchObject({ Type: 'container', Action: 'start', Actor: { ID: 'abc', Attributes: { name: 'x' } }, scope: 'local', timeNano: '1764590000123456789' });
  });

  it('refuses a timeNano that a bigint column cannot hold (it could never be stored)', () => {
    expect(parseEventLine(line({}, '9223372036854775807'))?.timeNano).toBe('9223372036854775807');
    expect(() => parseEventLine(line({}, '9223372036854775808'))).toThrow(SyntaxError);
    expect(() => parseEventLine(line({}, '1'.repeat(40)))).toThrow(SyntaxError);
  });

  it('gives every event an Actor of a string ID and string attributes, whatever the engine sent', () => {
    expect(parseEventLine(line({ Actor: { ID: 42, Attributes: { n: 1, o: { a: [1] }, s: 'ok', z: null } } }))?.Actor).toEqual({ ID: '', Attributes: { n: '1', o: '{"a":[1]}', s: 'ok', z: 'null' } });
    expect(parseEventLine(line({ Actor: 'nope' }))?.Actor).toEqual({ ID: '', Attributes: {} });
    expect(parseEventLine(line({ Actor: { ID: 'abc', Attributes: ['x'] } }))?.Actor).toEqual({ ID: 'abc', Attributes: {} });
    expect(parseEventLine(line({ scope: 7 }))?.scope).toBeUndefined();
  });

  it('refuses what is not an event', () => {
    expect(() => parseEventLine('{"Type":1,"Action":"start","time":1}')).toThrow(SyntaxError);
    expect(() => parseEventLine('{"Type":"container","Action":"start","time":1.5}')).toThrow(SyntaxError);
    expect(() => parseEventLine('not json')).toThrow();
    expect(parseEventLine('   ')).toBeUndefined();
  });
});
