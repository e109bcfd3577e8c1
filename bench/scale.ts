/** Verification time against the number of signatures: only the last one is trusted, so every one is fetched and checked. */
import { Pki, pushRandomImage, pushSignatures, setupRepository } from './fixtures';
import { FigureInput } from './report';
import { cpuNow, median, now } from './stats';
import { libraryRegistryVerify } from './verify';

export interface ScaleSettings {
  readonly counts: readonly number[];
  /** Rounds; each round verifies every image `repetitions(count)` times, so drift in load hits every count alike. */
  readonly rounds: number;
  readonly repetitions: (count: number) => number;
}

interface Timing {
  /** Median over rounds of the wall time per verification, ms. */
  readonly wall: number;
  /** The same for the CPU time of this process. */
  readonly cpu: number;
}

async function scaleMode(
  pki: Pki,
  host: string,
  mode: { label: string; repository: string; tagSchema: boolean },
  settings: ScaleSettings,
): Promise<FigureInput[]> {
  const { label, repository, tagSchema } = mode;
  const counts = [...settings.counts].sort((a, b) => a - b);
  const setup = setupRepository(host, repository);
  const verifications = new Map<number, () => Promise<void>>();
  for (const count of counts) {
    const image = await pushRandomImage(setup);
    const signers = [...Array.from({ length: count - 1 }, () => pki.untrustedSigner), pki.trustedSigner];
    await pushSignatures(host, repository, image, signers, { tagSchema });
    const verify = libraryRegistryVerify(pki, host, repository, image.digest);
    await verify();
    verifications.set(count, verify);
  }

  const samples = new Map<number, { wall: number[]; cpu: number[] }>(counts.map((count) => [count, { wall: [], cpu: [] }]));
  for (let round = 0; round < settings.rounds; round++) {
    for (const count of counts) {
      const repetitions = settings.repetitions(count);
      const verify = verifications.get(count) as () => Promise<void>;
      const cpuStarted = cpuNow();
      const started = now();
      for (let i = 0; i < repetitions; i++) await verify();
      const sample = samples.get(count) as { wall: number[]; cpu: number[] };
      sample.wall.push((now() - started) / repetitions);
      sample.cpu.push((cpuNow() - cpuStarted) / repetitions);
    }
  }
  const timings = new Map<number, Timing>(counts.map((count) => {
    const sample = samples.get(count) as { wall: number[]; cpu: number[] };
    return [count, { wall: median(sample.wall), cpu: median(sample.cpu) }];
  }));

  const base = timings.get(counts[0]) as Timing;
  const figures: FigureInput[] = counts.map((count) => ({
    name: `verify, ${count} signature${count === 1 ? '' : 's'}, last trusted (${label})`,
    value: (timings.get(count) as Timing).wall,
    unit: 'ms',
    note: `CPU ${(timings.get(count) as Timing).cpu.toFixed(1)} ms; median of ${settings.rounds} rounds of ${settings.repetitions(count)}`,
  }));
  // The marginal cost of one more signature: (t(n) - t(1)) / (n - 1).
  const perSignature = (count: number, key: keyof Timing) => ((timings.get(count) as Timing)[key] - base[key]) / (count - 1);
  for (const count of counts.slice(1)) {
    figures.push({
      name: `per signature fetched at ${count} (${label})`,
      value: perSignature(count, 'wall'),
      unit: 'ms',
      note: `(t(${count}) - t(${counts[0]})) / ${count - 1}: two requests (signature manifest, envelope) and one signature check; CPU ${perSignature(count, 'cpu').toFixed(2)} ms`,
    });
  }
  const [low, high] = [counts[1], counts[counts.length - 1]];
  if (low !== undefined && high !== low) {
    const growth = perSignature(high, 'wall') / perSignature(low, 'wall');
    figures.push({
      name: `per-signature cost growth ${high} vs ${low} (${label})`,
      value: growth,
      unit: 'x',
      ratio: growth,
      note: `per-signature cost at ${high} / at ${low}, about 1 when the time grows linearly; on CPU time ${(perSignature(high, 'cpu') / perSignature(low, 'cpu')).toFixed(2)}`,
    });
  }
  return figures;
}

export async function benchScale(pki: Pki, hosts: { plain: string; referrers: string }, settings: ScaleSettings): Promise<FigureInput[]> {
  return [
    ...(await scaleMode(pki, hosts.referrers, { label: 'referrers API', repository: 'bench/scale-referrers', tagSchema: false }, settings)),
    ...(await scaleMode(pki, hosts.plain, { label: 'tag schema', repository: 'bench/scale-tags', tagSchema: true }, settings)),
  ];
}
