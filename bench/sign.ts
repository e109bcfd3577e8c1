/** Signing with the local key signer against the floor: raw uploads of the same blobs and manifest plus one crypto.sign. */
import { openRegistry, Pki, pushRandomImage, setupRepository, verifyOpened } from './fixtures';
import { floorSignRegistry, recordRequests } from './floor';
import { FigureInput } from './report';
import { PairedSamples, pairedLatency } from './stats';
import { latencyFigures } from './verify';
import { signImage } from '../lambda/notary/sign-image';
import { Descriptor } from '../lambda/oci/types';

export interface SignSettings {
  readonly warmup: number;
  readonly samples: number;
  /** Samples on the registry without the referrers API, where each library signature waits for the tag index to settle. */
  readonly tagSchemaSamples: number;
}

async function pushImages(host: string, repository: string, count: number): Promise<Descriptor[]> {
  const setup = setupRepository(host, repository);
  const images: Descriptor[] = [];
  // Eight at a time: setup, not measured.
  for (let start = 0; start < count; start += 8) {
    const batch = Math.min(8, count - start);
    images.push(...(await Promise.all(Array.from({ length: batch }, () => pushRandomImage(setup)))));
  }
  return images;
}

/** Signs `host/repository`: the library (as the sign path runs it: no force, so it lists signatures first) and the floor. */
async function signMode(
  pki: Pki,
  host: string,
  repository: string,
  settings: SignSettings,
): Promise<{ samples: PairedSamples; note: string }> {
  const count = settings.warmup + settings.samples + 2;
  const [libraryImages, floorImages] = [await pushImages(host, repository, count), await pushImages(host, repository, count)];
  const signer = { key: pki.trusted.leaf.key, chain: pki.trusted.chain };
  let nextLibrary = 0;
  let nextFloor = 0;
  const library = async () => {
    const image = libraryImages[nextLibrary++];
    const opened = openRegistry(host, repository, image.digest);
    const result = await signImage({ repository: opened.repository, tagOrDigest: opened.tagOrDigest, signer: pki.trustedSigner });
    if (result.reused) throw new Error('expected a new signature');
  };
  const floor = () => floorSignRegistry(`http://${host}`, repository, floorImages[nextFloor++].digest, signer);

  // One signature first, so the empty config blob exists for both, as in every timed call.
  await library();
  // Requests sent together may arrive in either order: compare them as sets.
  const libraryRequests = (await recordRequests(library)).sort();
  const floorRequests = (await recordRequests(floor)).sort();
  const same = libraryRequests.join('\n') === floorRequests.join('\n');
  if (!same) console.warn(`  sign requests differ:\n    library: ${libraryRequests.join(', ')}\n    floor:   ${floorRequests.join(', ')}`);

  // The floor's signature must be one the library accepts, or it would not be doing the same work.
  const floorSigned = floorImages[0];
  const opened = openRegistry(host, repository, floorSigned.digest);
  const check = await verifyOpened(pki, opened);
  if (!check.verified) throw new Error(`the library does not accept the floor's signature: ${check.error?.message}`);

  const samples = await pairedLatency(library, floor, { warmup: settings.warmup, samples: settings.samples });
  const note = same ? `${libraryRequests.length} requests each` : `library ${libraryRequests.length} requests, floor ${floorRequests.length} (they differ)`;
  return { samples, note };
}

export async function benchSign(pki: Pki, hosts: { plain: string; referrers: string }, settings: SignSettings): Promise<FigureInput[]> {
  const figures: FigureInput[] = [];
  const api = await signMode(pki, hosts.referrers, 'bench/sign-referrers', settings);
  figures.push(...latencyFigures('sign, local key (referrers API)', api.samples, api.note));
  const tags = await signMode(pki, hosts.plain, 'bench/sign-tags', { ...settings, samples: settings.tagSchemaSamples });
  const settle = 'the library waits max(50 ms, 3x the read-modify-write) x (1..2) before reading the tag index back (concurrent signers), the floor does not';
  figures.push(...latencyFigures('sign, local key (tag schema)', tags.samples, `${tags.note}; ${settle}`));
  return figures;
}
