/** Verification time against the number of signatures: only the last one is trusted, so every one is fetched and checked. */
import { Pki, pushRandomImage, pushSignatures, setupRepository } from './fixtures';
import { FigureInput } from './report';
import { median, now } from './stats';
import { libraryRegistryVerify } from './verify';

export interface ScaleSettings {
  readonly counts: readonly number[];
  /** Timed verifications per count (after one untimed). */
  readonly repetitions: (count: number) => number;
}

async function timeVerifications(run: () => Promise<void>, repetitions: number): Promise<number> {
  await run();
  const samples: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    const started = now();
    await run();
    samples.push(now() - started);
  }
  return median(samples);
}

async function scaleMode(
  pki: Pki,
  host: string,
  mode: { label: string; repository: string; tagSchema: boolean },
  settings: ScaleSettings,
): Promise<FigureInput[]> {
  const { label, repository, tagSchema } = mode;
  const setup = setupRepository(host, repository);
  const times = new Map<number, number>();
  for (const count of settings.counts) {
    const image = await pushRandomImage(setup);
    const signers = [...Array.from({ length: count - 1 }, () => pki.untrustedSigner), pki.trustedSigner];
    await pushSignatures(host, repository, image, signers, { tagSchema });
    times.set(count, await timeVerifications(libraryRegistryVerify(pki, host, repository, image.digest), settings.repetitions(count)));
  }
  const counts = [...settings.counts].sort((a, b) => a - b);
  const base = times.get(counts[0]) as number;
  const figures: FigureInput[] = counts.map((count) => ({
    name: `verify, ${count} signature${count === 1 ? '' : 's'}, last trusted (${label})`,
    value: times.get(count) as number,
    unit: 'ms',
  }));
  // The marginal cost of one more signature: (t(n) - t(1)) / (n - 1).
  const perSignature = new Map(counts.slice(1).map((count) => [count, ((times.get(count) as number) - base) / (count - 1)]));
  for (const [count, cost] of perSignature) {
    figures.push({ name: `per signature fetched at ${count} (${label})`, value: cost, unit: 'ms', note: `(t(${count}) - t(${counts[0]})) / ${count - 1}` });
  }
  const [low, high] = [counts[1], counts[counts.length - 1]];
  if (low !== undefined && high !== low) {
    figures.push({
      name: `per-signature cost growth ${high} vs ${low} (${label})`,
      value: (perSignature.get(high) as number) / (perSignature.get(low) as number),
      unit: 'x',
      ratio: (perSignature.get(high) as number) / (perSignature.get(low) as number),
      note: 'per-signature cost at the larger count / at the smaller; about 1 when the time grows linearly',
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
