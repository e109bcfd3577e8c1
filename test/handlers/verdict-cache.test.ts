import { VerdictCache } from '../../lambda/handlers/verdict-cache';

describe('VerdictCache', () => {
  let now = 0;
  const cache = () => new VerdictCache<string>(2, 1000, () => now);
  beforeEach(() => {
    now = 0;
  });

  test('an entry lives for the cache\'s time to live', () => {
    const verdicts = cache();
    verdicts.set('a', 'verified');
    now = 999;
    expect(verdicts.get('a')).toBe('verified');
    now = 1000;
    expect(verdicts.get('a')).toBeUndefined();
  });

  test('an entry may be kept for less, never for more, than the cache\'s time to live', () => {
    const verdicts = cache();
    verdicts.set('short', 'rejected', 100);
    verdicts.set('long', 'verified', 5000);
    now = 100;
    expect(verdicts.get('short')).toBeUndefined();
    now = 999;
    expect(verdicts.get('long')).toBe('verified');
    now = 1000;
    expect(verdicts.get('long')).toBeUndefined();
  });

  test('bounded: the least recently used entry goes first', () => {
    const verdicts = cache();
    verdicts.set('a', '1');
    verdicts.set('b', '2');
    verdicts.get('a');
    verdicts.set('c', '3');
    expect([verdicts.get('a'), verdicts.get('b'), verdicts.get('c'), verdicts.size]).toEqual(['1', undefined, '3', 2]);
  });
});
