import { Metrics, MAX_OPERATION_LABELS } from '../../src/server/metrics';

/** Operation names come from clients: one inventing a name per request must not grow the metrics registry. */
describe('operation name labels', () => {
  it(`keeps the first ${MAX_OPERATION_LABELS} distinct names, then counts new ones as "other"`, () => {
    expect(Metrics.label(undefined)).toBe('anonymous');
    expect(Metrics.label('not a name!')).toBe('invalid');
    expect(Metrics.label('ListHosts')).toBe('ListHosts');
    for (let i = 0; i < MAX_OPERATION_LABELS * 3; i++) Metrics.label(`Op${i}`);
    expect(Metrics.label('NewOne')).toBe('other');
    expect(Metrics.label('ListHosts')).toBe('ListHosts');
    expect(Metrics.label('Op1')).toBe('Op1');
  });
});
