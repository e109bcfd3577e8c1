/** Warm verification against the floor: on the distribution registry, through the referrers API, and on an OCI layout. */
import { addSignatures, openRegistry, Pki, pushRandomImage, verifyOpened } from './fixtures';
import { floorVerifyLayout, floorVerifyRegistry, recordRequests } from './floor';
import { FigureInput } from './report';
import { PairedSamples, pairedLatency, pairedThroughput, percentile } from './stats';
import { PipelineClients } from '../lambda/handlers/clients';
import { Logger } from '../lambda/handlers/log';
import { createVerifyHandler } from '../lambda/handlers/verify';
import { OciLayoutRepository } from '../lambda/oci/layout-repository';
import { openRepository } from '../lambda/oci/open-repository';
import { Descriptor } from '../lambda/oci/types';

const LATENCY_TARGET = { on: 'ratio', max: 1.3 } as const;

const noAwsClient = (): never => {
  throw new Error('no AWS client is needed to verify a notary.x509 signature on a loopback registry');
};
const NO_AWS: PipelineClients = { codePipeline: noAwsClient, signer: noAwsClient, ecr: noAwsClient, artifactStore: noAwsClient };

export interface VerifySettings {
  readonly warmup: number;
  readonly samples: number;
  readonly throughputMs: number;
  readonly concurrency: readonly number[];
}

function anchorsOf(pki: Pki): Buffer[] {
  return [Buffer.from(pki.trusted.root.der)];
}

/** The engine call the verify handler makes, on a repository opened per verification as the handler does. */
export function libraryRegistryVerify(pki: Pki, host: string, repository: string, digest: string): () => Promise<void> {
  return async () => {
    const opened = openRegistry(host, repository, digest);
    const outcome = await verifyOpened(pki, opened);
    if (!outcome.verified) throw new Error(`library verification failed: ${outcome.error?.message}`);
  };
}

function floorRegistryVerify(pki: Pki, host: string, repository: string, digest: string): () => Promise<void> {
  const anchors = anchorsOf(pki);
  return async () => {
    if (!(await floorVerifyRegistry(`http://${host}`, repository, digest, anchors))) throw new Error('floor verification failed');
  };
}

/** Compares the requests of the library and the floor; returns a note on what was compared. */
async function sameRequests(library: () => Promise<unknown>, floor: () => Promise<unknown>): Promise<string> {
  // Requests sent together may arrive in either order: compare them as sets.
  const libraryRequests = (await recordRequests(library)).sort();
  const floorRequests = (await recordRequests(floor)).sort();
  if (libraryRequests.join('\n') !== floorRequests.join('\n')) {
    console.warn(`  the floor's requests differ from the library's:\n    library: ${libraryRequests.join(', ')}\n    floor:   ${floorRequests.join(', ')}`);
    return `library ${libraryRequests.length} requests, floor ${floorRequests.length} (they differ)`;
  }
  return `${libraryRequests.length} requests each: ${libraryRequests.map((r) => r.replace(/\/v2\/[^ ]+?\/(manifests|blobs|referrers)\/.*/, '/$1')).join(', ')}`;
}

/** p50 (held to the target), p95, and the median CPU time of this process per call. */
export function latencyFigures(name: string, samples: PairedSamples, note: string): FigureInput[] {
  return [
    { name: `${name} p50`, value: percentile(samples.subject, 50), unit: 'ms', floor: percentile(samples.floor, 50), target: LATENCY_TARGET, note },
    { name: `${name} p95`, value: percentile(samples.subject, 95), unit: 'ms', floor: percentile(samples.floor, 95) },
    {
      name: `${name} CPU p50`,
      value: percentile(samples.subjectCpu, 50),
      unit: 'ms',
      floor: percentile(samples.floorCpu, 50),
      note: 'CPU time (user + system) of the benchmark process per call: what the library itself costs, barely moved by load from other processes',
    },
  ];
}

/** Signs a new image in `repository` once with the trusted key; returns its descriptor. */
async function signedImage(pki: Pki, host: string, repository: string): Promise<Descriptor> {
  const setup = openRegistry(host, repository, 'setup').repository;
  const image = await pushRandomImage(setup);
  await addSignatures(setup, image, [pki.trustedSigner]);
  return image;
}

export async function benchRegistryVerify(pki: Pki, hosts: { plain: string; referrers: string }, settings: VerifySettings): Promise<FigureInput[]> {
  const figures: FigureInput[] = [];

  // The distribution registry has no referrers API: each verification probes it (404), then reads the tag schema index.
  const repository = 'bench/verify';
  const image = await signedImage(pki, hosts.plain, repository);
  const library = libraryRegistryVerify(pki, hosts.plain, repository, image.digest);
  const floor = floorRegistryVerify(pki, hosts.plain, repository, image.digest);
  const note = `distribution registry ${hosts.plain}, tag schema; ${await sameRequests(library, floor)}`;
  console.log(`  verify, distribution registry: ${note}`);
  figures.push(...latencyFigures('verify warm, registry (tag schema)', await pairedLatency(library, floor, settings), note));

  // The verify handler itself, warm (configuration parsed once), invoked directly with a silent logger.
  const silent = new Logger({}, { log: () => undefined, warn: () => undefined, error: () => undefined });
  const handler = createVerifyHandler({
    env: { ...pki.env, REGISTRY_PLAIN_HTTP_HOSTS: hosts.plain },
    logger: silent,
    clients: () => NO_AWS,
  });
  const imageUri = `${hosts.plain}/${repository}@${image.digest}`;
  const viaHandler = async () => {
    const outcome = (await handler({ imageUri })) as { verified?: boolean };
    if (!outcome.verified) throw new Error('handler verification failed');
  };
  const handlerSamples = await pairedLatency(viaHandler, floor, { warmup: settings.warmup, samples: Math.ceil(settings.samples / 2) });
  const handlerFigures = latencyFigures('verify warm, handler direct invocation', handlerSamples, 'createVerifyHandler, same image and floor as above');
  figures.push(handlerFigures[0], handlerFigures[2]);

  for (const concurrency of settings.concurrency) {
    const { subject: libraryRun, floor: floorRun } = await pairedThroughput(library, floor, {
      concurrency,
      sliceMs: settings.throughputMs / 4,
      slices: 4,
    });
    figures.push({
      name: `verify throughput, concurrency ${concurrency}`,
      value: libraryRun.rate,
      unit: 'verifications/s',
      floor: floorRun.rate,
      target: LATENCY_TARGET,
      note: `${settings.throughputMs / 1000} s each in alternating slices; ratio = floor rate / library rate; CPU per verification ${libraryRun.cpuPerOperation.toFixed(2)} ms (floor ${floorRun.cpuPerOperation.toFixed(2)} ms)`,
    });
  }

  // Through the referrers API (a loopback proxy that adds it in front of the same registry).
  const apiRepository = 'bench/verify-referrers';
  const apiImage = await signedImage(pki, hosts.referrers, apiRepository);
  const apiLibrary = libraryRegistryVerify(pki, hosts.referrers, apiRepository, apiImage.digest);
  const apiFloor = floorRegistryVerify(pki, hosts.referrers, apiRepository, apiImage.digest);
  const apiNote = `referrers API proxy ${hosts.referrers}; ${await sameRequests(apiLibrary, apiFloor)}`;
  console.log(`  verify, referrers API: ${apiNote}`);
  figures.push(...latencyFigures('verify warm, registry (referrers API)', await pairedLatency(apiLibrary, apiFloor, settings), apiNote));
  return figures;
}

export async function benchLayoutVerify(pki: Pki, directory: string, settings: VerifySettings): Promise<FigureInput[]> {
  const layout = new OciLayoutRepository(directory);
  const image = await pushRandomImage(layout, 'v1');
  await addSignatures(layout, image, [pki.trustedSigner]);
  const anchors = anchorsOf(pki);
  const library = async () => {
    const opened = openRepository(`${directory}@${image.digest}`, { ociLayout: true });
    const outcome = await verifyOpened(pki, opened);
    if (!outcome.verified) throw new Error(`library layout verification failed: ${outcome.error?.message}`);
  };
  const floor = async () => {
    if (!(await floorVerifyLayout(directory, image.digest, anchors))) throw new Error('floor layout verification failed');
  };
  return latencyFigures('verify warm, OCI layout', await pairedLatency(library, floor, settings), 'index.json, manifests and envelope read from a temporary OCI layout');
}
