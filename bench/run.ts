/**
 * `npm run bench`: every figure next to its floor measured in the same run, on loopback servers this
 * process starts. Prints a table, writes bench/results.json and bench/README-section.md.
 *
 *   npm run bench                 # everything (about 2-3 minutes on 2 cores)
 *   npm run bench -- --quick      # fewer samples, for trying changes
 *   npm run bench -- --no-synth   # without the example app synthesis
 *   npm run bench -- --bundle     # rebuild assets/ first even when it looks current
 *   npm run bench -- --only layout,bundles   # some suites: verify, layout, sign, latency, scale, bundles, synth
 *   npm run bench -- --cpu-prof   # also write .cpuprofile files of the fresh processes (bundles suite)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchBundles, ensureBundles } from './bundles';
import { addSignatures, createPki, openRegistry, pushRandomImage, startRegistries } from './fixtures';
import { benchLatency } from './latency';
import { consoleTable, currentLoad, describeMachine, Figure, figure, FigureInput, markdownTable, Machine } from './report';
import { benchScale } from './scale';
import { benchSign } from './sign';
import { now } from './stats';
import { benchSynth } from './synth';
import { benchLayoutVerify, benchRegistryVerify } from './verify';

const argv = process.argv.slice(2);
const args = new Set(argv);
const quick = args.has('--quick');
const SUITES = ['verify', 'layout', 'sign', 'latency', 'scale', 'bundles', 'synth'] as const;
const onlyIndex = argv.indexOf('--only');
const only = new Set(onlyIndex >= 0 ? (argv[onlyIndex + 1] ?? '').split(',') : SUITES);
for (const name of only) {
  if (!(SUITES as readonly string[]).includes(name)) throw new Error(`--only: unknown suite "${name}"; suites are ${SUITES.join(', ')}`);
}
const selected = (name: (typeof SUITES)[number]) => only.has(name);
const COMMAND = 'npm run bench';

const settings = {
  verify: { warmup: quick ? 10 : 30, samples: quick ? 60 : 200, throughputMs: quick ? 700 : 2000, concurrency: [1, 8, 32] },
  sign: { warmup: quick ? 3 : 5, samples: quick ? 15 : 40, tagSchemaSamples: quick ? 10 : 25 },
  latency: { roundTripMs: 20, warmup: quick ? 2 : 5, samples: quick ? 15 : 40, untrusted: 100 },
  scale: { counts: [1, 10, 100], rounds: quick ? 2 : 4, repetitions: (count: number) => (count >= 100 ? 1 : count >= 10 ? 4 : 20) },
  bundleRuns: quick ? 4 : 10,
  /** Fresh processes per bundle other than the verify handler's. */
  otherBundleRuns: quick ? 3 : 6,
  synthTimeoutMs: 180_000,
};

async function suite(name: string, figures: Figure[], machine: Machine, body: () => Promise<FigureInput[]>): Promise<void> {
  const started = now();
  console.log(`${name}...`);
  try {
    for (const input of await body()) figures.push(figure(input, machine));
  } catch (error) {
    const message = (error as Error)?.stack ?? String(error);
    console.error(`  ${name} failed: ${message}`);
    figures.push(figure({ name, value: null, unit: '', skipped: `failed: ${(error as Error)?.message ?? String(error)}`.slice(0, 600) }, machine));
  }
  console.log(`  ${name}: ${((now() - started) / 1000).toFixed(1)} s`);
}

function readmeSection(figures: readonly Figure[], machine: Machine, seconds: number): string {
  const targets = figures.filter((f) => f.met !== undefined);
  const missed = targets.filter((f) => !f.met);
  return [
    '## Performance',
    '',
    `Measured with \`${COMMAND}\` (\`bench/run.ts\`, ${seconds.toFixed(0)} s) on ${machine.cpuCount} x ${machine.cpuModel}, node ${machine.node}, ${machine.os},`,
    `${machine.memoryGiB} GiB; load average ${machine.loadAverage.start.join(' / ')} at the start and ${machine.loadAverage.end?.join(' / ')} at the end (1 / 5 / 15 min).`,
    'Every figure with a floor is compared with the same work done the shortest way, in the same run, alternating sample by sample:',
    'the same HTTP requests with raw `fetch` (or the same file reads with `node:fs`), the same certificate chain validation with',
    '`X509Certificate.verify` and one `crypto.verify` (or `crypto.sign`) of the same envelope. The ratio is library / floor',
    '(floor rate / library rate for throughput). Registries are the CNCF distribution registry (`docker-registry`, no referrers API,',
    'so clients use the referrers tag schema) started on loopback, and the same registry behind a loopback proxy that adds the',
    'referrers API (`test/harness/referrers-server.ts`). Certificates are EC P-256 chains (root, intermediate, leaf).',
    '',
    markdownTable(figures),
    '',
    `Targets met: ${targets.length - missed.length} of ${targets.length}${missed.length ? ` (missed: ${missed.map((f) => f.name).join('; ')})` : ''}.`,
    '',
    'Where the time goes (CPU profiles, `node --cpu-prof` and `npm run bench -- --cpu-prof`):',
    '',
    '- Cold load of the handler bundles is compiling and running the bundle: the AWS SDK v3 core with the ECR client alone',
    '  takes about 90 ms of CPU to load, pkijs about 40 ms; wall time is CPU time on an idle core, more on a busy machine.',
    '- On a registry without the referrers API each verification opens its repository afresh (as the handler does per',
    '  invocation), so it asks the referrers API first (a 404) and then reads the tag schema index; the floor makes the same requests.',
    '- Signing on a registry without the referrers API waits after writing the tag schema index before reading it back, so',
    '  that concurrent signers lose no entry; that wait, not the signing, is the gap to the floor.',
    '- On an OCI layout there is no network to hide behind: the strict parsing and checks of the manifests, the envelope and',
    '  the certificates, and a third read of index.json (for the signature manifest\'s media type), are what the ratio shows.',
    '',
    'Notes:',
    '',
    ...figures.filter((f) => f.note || f.skipped).map((f) => `- ${f.name}: ${f.skipped ? `skipped, ${f.skipped}` : f.note}`),
    '',
    'Raw figures, with the machine, are in `bench/results.json`.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const started = now();
  const machine = describeMachine();
  console.log(`bench on ${machine.cpuCount} x ${machine.cpuModel}, node ${machine.node}, ${machine.os}${quick ? ' (quick)' : ''}`);
  const figures: Figure[] = [];

  let bundleNote: string | undefined;
  await suite('bundles up to date', figures, machine, async () => {
    bundleNote = await ensureBundles(args.has('--bundle'));
    if (bundleNote) console.log(`  ${bundleNote}`);
    return [];
  });

  const pki = await createPki();
  const registries = await startRegistries();
  const layoutDirectory = mkdtempSync(join(tmpdir(), 'bench-layout-'));
  const hosts = { plain: registries.plain.host, referrers: registries.referrers.host };
  try {
    if (selected('verify')) await suite('verify on the registry', figures, machine, () => benchRegistryVerify(pki, hosts, settings.verify));
    if (selected('layout')) await suite('verify on an OCI layout', figures, machine, () => benchLayoutVerify(pki, layoutDirectory, settings.verify));
    if (selected('sign')) await suite('sign', figures, machine, () => benchSign(pki, hosts, settings.sign));
    if (selected('latency')) await suite('verify and sign at 20 ms per request', figures, machine, () => benchLatency(pki, hosts, settings.latency));
    if (selected('scale')) await suite('signature count scale', figures, machine, () => benchScale(pki, hosts, settings.scale));
    if (selected('bundles')) {
      await suite('handler bundles', figures, machine, async () => {
        const repository = 'bench/cold';
        const setup = openRegistry(hosts.plain, repository, 'setup').repository;
        const image = await pushRandomImage(setup);
        await addSignatures(setup, image, [pki.trustedSigner]);
        return benchBundles(
          {
            runs: settings.bundleRuns,
            otherRuns: settings.otherBundleRuns,
            verify: { env: { ...pki.env, REGISTRY_PLAIN_HTTP_HOSTS: hosts.plain }, imageUri: `${hosts.plain}/${repository}@${image.digest}` },
            cpuProfileDirectory: args.has('--cpu-prof') ? mkdtempSync(join(tmpdir(), 'bench-cpu-prof-')) : undefined,
          },
          bundleNote,
        );
      });
    }
  } finally {
    await registries.close();
    rmSync(layoutDirectory, { recursive: true, force: true });
  }

  if (!selected('synth')) {
    // not asked for
  } else if (args.has('--no-synth')) {
    figures.push(figure({ name: 'synth example app (cdk synth -q -c nag=false)', value: null, unit: 's', skipped: 'not run (--no-synth)' }, machine));
  } else {
    await suite('synth example app', figures, machine, () => benchSynth(settings.synthTimeoutMs));
  }

  machine.loadAverage.end = currentLoad();
  const seconds = (now() - started) / 1000;
  console.log(`\n${consoleTable(figures)}\n`);
  console.log(`${seconds.toFixed(1)} s in all`);
  const resultsPath = join(__dirname, 'results.json');
  writeFileSync(resultsPath, `${JSON.stringify(figures, undefined, 2)}\n`);
  writeFileSync(join(__dirname, 'README-section.md'), readmeSection(figures, machine, seconds));
  console.log(`wrote ${resultsPath} and bench/README-section.md`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
