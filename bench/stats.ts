/** Timing helpers: percentiles, interleaved latency samples and bounded throughput runs. */

export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** The `p`-th percentile (0-100) of `samples`, nearest-rank on a sorted copy. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

/** CPU time (user + system, ms) this process used so far: unlike wall time, barely moved by other processes. */
export const cpuNow = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

export interface PairedSamples {
  /** Wall time of each call, ms. */
  readonly subject: number[];
  readonly floor: number[];
  /** CPU time of this process during each call, ms. */
  readonly subjectCpu: number[];
  readonly floorCpu: number[];
}

/**
 * Times `subject` and `floor` alternately (ABAB...), `warmup` untimed rounds first, so drift in the
 * machine or the registry hits both the same way. Each call is checked by its own `check` if given.
 */
export async function pairedLatency(
  subject: () => Promise<unknown>,
  floor: () => Promise<unknown>,
  options: { warmup: number; samples: number },
): Promise<PairedSamples> {
  for (let i = 0; i < options.warmup; i++) {
    await subject();
    await floor();
  }
  const result: PairedSamples = { subject: [], floor: [], subjectCpu: [], floorCpu: [] };
  for (let i = 0; i < options.samples; i++) {
    // Alternate which goes first, so neither always runs right after the other's garbage.
    const order: Array<[() => Promise<unknown>, number[], number[]]> = i % 2 === 0
      ? [[subject, result.subject, result.subjectCpu], [floor, result.floor, result.floorCpu]]
      : [[floor, result.floor, result.floorCpu], [subject, result.subject, result.subjectCpu]];
    for (const [run, wall, cpu] of order) {
      const cpuStarted = cpuNow();
      const started = now();
      await run();
      wall.push(now() - started);
      cpu.push(cpuNow() - cpuStarted);
    }
  }
  return result;
}

export interface ThroughputResult {
  /** Completed operations per second. */
  readonly rate: number;
  /** CPU ms of this process per completed operation. */
  readonly cpuPerOperation: number;
}

/**
 * `throughput` of `subject` and `floor` in alternating slices (floor, subject, subject, floor, ...), so a
 * change in the load of the machine during the run hits both the same way.
 */
export async function pairedThroughput(
  subject: () => Promise<unknown>,
  floor: () => Promise<unknown>,
  options: { concurrency: number; sliceMs: number; slices: number },
): Promise<{ subject: ThroughputResult; floor: ThroughputResult }> {
  const totals = { subject: { completed: 0, ms: 0, cpu: 0 }, floor: { completed: 0, ms: 0, cpu: 0 } };
  for (let slice = 0; slice < options.slices; slice++) {
    const order = slice % 2 === 0 ? (['floor', 'subject'] as const) : (['subject', 'floor'] as const);
    for (const which of order) {
      const operation = which === 'subject' ? subject : floor;
      const cpuStarted = cpuNow();
      const started = now();
      const deadline = started + options.sliceMs;
      let completed = 0;
      const worker = async () => {
        while (now() < deadline) {
          await operation();
          completed++;
        }
      };
      await Promise.all(Array.from({ length: options.concurrency }, worker));
      totals[which].completed += completed;
      totals[which].ms += now() - started;
      totals[which].cpu += cpuNow() - cpuStarted;
    }
  }
  const result = (t: { completed: number; ms: number; cpu: number }): ThroughputResult => ({
    rate: t.completed / (t.ms / 1000),
    cpuPerOperation: t.cpu / t.completed,
  });
  return { subject: result(totals.subject), floor: result(totals.floor) };
}
