/**
 * Verification and signing across a network: a loopback proxy holds every request for a fixed time (20 ms, an
 * in-region round trip), so what decides the figures is how many requests wait on each other. Each floor is the
 * fewest sequential round trips the protocol needs, sent through the same proxy, plus the same run's crypto.
 */
import { createHash, sign as cryptoSign } from 'node:crypto';
import { addSignatures, Pki, pushRandomImage, pushSignatures, setupRepository } from './fixtures';
import { checkEnvelope } from './floor';
import { FigureInput } from './report';
import { pairedLatency, percentile } from './stats';
import { libraryRegistryVerify } from './verify';
import { signImage } from '../lambda/notary/sign-image';
import { SignatureStore } from '../lambda/notary/signature-store';
import { openRepository } from '../lambda/oci/open-repository';
import { Descriptor } from '../lambda/oci/types';
import { startForwardingProxy } from '../test/harness/forwarding-proxy';

export interface LatencySettings {
  /** The delay the proxy adds to every request, ms. */
  readonly roundTripMs: number;
  readonly warmup: number;
  readonly samples: number;
  /** Untrusted signatures next to the trusted one in the flood figure. */
  readonly untrusted: number;
}

const TARGET = { on: 'ratio', max: 1.15 } as const;

/** `count` sequential round trips through the proxy: GET /v2/, the cheapest request a registry answers. */
async function roundTrips(host: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await (await fetch(`http://${host}/v2/`)).arrayBuffer();
}

/** The envelope and target of the signature the library verifies, for the floor's crypto. */
async function envelopeOf(host: string, repository: string, image: Descriptor): Promise<{ envelope: Uint8Array; target: Descriptor }> {
  const store = new SignatureStore(setupRepository(host, repository));
  const [signature] = await store.listSignatures(image);
  return { envelope: (await store.fetchSignature(signature, image)).envelope, target: image };
}

async function signedImage(pki: Pki, host: string, repository: string): Promise<Descriptor> {
  const setup = setupRepository(host, repository);
  const image = await pushRandomImage(setup);
  await addSignatures(setup, image, [pki.trustedSigner]);
  return image;
}

export async function benchLatency(pki: Pki, hosts: { plain: string; referrers: string }, settings: LatencySettings): Promise<FigureInput[]> {
  const figures: FigureInput[] = [];
  const rtt = settings.roundTripMs;
  const anchors = [Buffer.from(pki.trusted.root.der)];
  const apiProxy = await startForwardingProxy(hosts.referrers, { delayMs: rtt });
  const tagProxy = await startForwardingProxy(hosts.plain, { delayMs: rtt });
  try {
    // Referrers API, digest reference: resolve ∥ referrers, the signature manifest, its envelope.
    const apiRepository = 'bench/latency-referrers';
    const apiImage = await signedImage(pki, hosts.referrers, apiRepository);
    const apiSignature = await envelopeOf(hosts.referrers, apiRepository, apiImage);
    const verifyFloor = (host: string, signature: { envelope: Uint8Array; target: Descriptor }) => async () => {
      await roundTrips(host, 3);
      if (!checkEnvelope(signature.envelope, signature.target, anchors)) throw new Error('floor verification failed');
    };
    const apiLibrary = libraryRegistryVerify(pki, apiProxy.host, apiRepository, apiImage.digest);
    const api = await pairedLatency(apiLibrary, verifyFloor(apiProxy.host, apiSignature), settings);
    figures.push({
      name: `verify at ${rtt} ms round-trip time p50`,
      value: percentile(api.subject, 50),
      unit: 'ms',
      floor: percentile(api.floor, 50),
      target: TARGET,
      note: `referrers API behind a ${rtt} ms proxy, a repository opened per verification as the handler does; floor: 3 sequential round trips (resolve ∥ referrers, signature manifest, envelope) + one envelope check`,
    });

    // Tag schema: the tag index is read while the referrers API is probed, so the minimum is the same 3.
    const tagRepository = 'bench/latency-tags';
    const tagImage = await signedImage(pki, hosts.plain, tagRepository);
    const tagSignature = await envelopeOf(hosts.plain, tagRepository, tagImage);
    const tagLibrary = libraryRegistryVerify(pki, tagProxy.host, tagRepository, tagImage.digest);
    const tags = await pairedLatency(tagLibrary, verifyFloor(tagProxy.host, tagSignature), settings);
    figures.push({
      name: `verify at ${rtt} ms round-trip time, tag schema p50`,
      value: percentile(tags.subject, 50),
      unit: 'ms',
      floor: percentile(tags.floor, 50),
      target: TARGET,
      note: 'distribution registry (no referrers API) behind the same proxy; floor: 3 sequential round trips (resolve ∥ referrers probe ∥ tag index, signature manifest, envelope) + one envelope check',
    });

    // A flood of untrusted signatures listed before the trusted one.
    const floodRepository = 'bench/latency-flood';
    const floodImage = await pushRandomImage(setupRepository(hosts.referrers, floodRepository));
    const floodSigners = [...Array.from({ length: settings.untrusted }, () => pki.untrustedSigner), pki.trustedSigner];
    await pushSignatures(hosts.referrers, floodRepository, floodImage, floodSigners, { tagSchema: false });
    const flood = await pairedLatency(
      libraryRegistryVerify(pki, apiProxy.host, floodRepository, floodImage.digest),
      libraryRegistryVerify(pki, apiProxy.host, apiRepository, apiImage.digest),
      settings,
    );
    figures.push({
      name: `verify, ${settings.untrusted} untrusted + 1 trusted signatures p50`,
      value: percentile(flood.subject, 50),
      unit: 'ms',
      floor: percentile(flood.floor, 50),
      target: { on: 'ratio', max: 1.5 },
      note: `at ${rtt} ms per request; the trusted signature is listed last; ratio to the same verification of an image with its one signature. Signatures whose thumbprint annotation names a trusted certificate are tried first`,
    });

    // Signing an unsigned image by digest: resolve ∥ list, the two blob uploads together (HEAD, POST, PUT), the manifest.
    const signRepository = 'bench/latency-sign';
    const setup = setupRepository(hosts.referrers, signRepository);
    const images: Descriptor[] = [];
    for (let i = 0; i < settings.warmup + settings.samples + 1; i++) images.push(await pushRandomImage(setup));
    let next = 0;
    const librarySign = async () => {
      const image = images[next++];
      const opened = openRepository(`${apiProxy.host}/${signRepository}@${image.digest}`, { plainHttp: true });
      const result = await signImage({ repository: opened.repository, tagOrDigest: opened.tagOrDigest, signer: pki.trustedSigner });
      if (result.reused) throw new Error('expected a new signature');
    };
    const payload = Buffer.from(JSON.stringify({ targetArtifact: images[0] }));
    const signFloor = async () => {
      await roundTrips(apiProxy.host, 4);
      cryptoSign('sha256', createHash('sha256').update(payload).digest(), { key: pki.trusted.leaf.key, dsaEncoding: 'ieee-p1363' });
    };
    const signing = await pairedLatency(librarySign, signFloor, settings);
    figures.push({
      name: `sign at ${rtt} ms round-trip time p50`,
      value: percentile(signing.subject, 50),
      unit: 'ms',
      floor: percentile(signing.floor, 50),
      target: TARGET,
      note: 'local key, referrers API behind the same proxy; floor: 4 sequential round trips (resolve ∥ list, envelope upload POST and PUT with the config blob HEAD alongside, manifest PUT) + one crypto.sign; the library also verifies the envelope under the signer\'s own trust before pushing it',
    });
  } finally {
    await apiProxy.close();
    await tagProxy.close();
  }
  return figures;
}
