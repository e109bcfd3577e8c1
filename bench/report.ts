/** Benchmark figures: the results.json records, the console table and the README section. */
import { cpus, loadavg, platform, release, totalmem } from 'node:os';

export interface Machine {
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly node: string;
  readonly os: string;
  readonly memoryGiB: number;
  /** 1, 5 and 15 minute load averages when the run started and when it ended (other work on the machine). */
  readonly loadAverage: { start: number[]; end?: number[] };
}

export function describeMachine(): Machine {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpuCount: list.length,
    node: process.version,
    os: `${platform()} ${release()}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: { start: currentLoad() },
  };
}

export function currentLoad(): number[] {
  return loadavg().map((value) => Math.round(value * 100) / 100);
}

/** A target a figure is held to: its value (or its ratio to the floor) at most `max`. */
export interface Target {
  readonly on: 'value' | 'ratio';
  readonly max: number;
}

export interface Figure {
  readonly name: string;
  /** null when skipped. */
  readonly value: number | null;
  readonly unit: string;
  /** The same figure for the floor, when there is one. */
  readonly floor: number | null;
  /** value / floor, or a growth ratio the note explains; null when there is none. */
  readonly ratio: number | null;
  readonly target?: string;
  /** Whether the target was met; absent without a target. */
  readonly met?: boolean;
  readonly skipped?: string;
  readonly note?: string;
  readonly machine: Machine;
}

export interface FigureInput {
  readonly name: string;
  readonly value: number | null;
  readonly unit: string;
  readonly floor?: number | null;
  readonly ratio?: number | null;
  readonly target?: Target;
  readonly skipped?: string;
  readonly note?: string;
}

const round = (value: number): number => {
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 ? 1 : magnitude >= 1 ? 2 : 3;
  return Number(value.toFixed(digits));
};

export function figure(input: FigureInput, machine: Machine): Figure {
  const value = input.value === null ? null : round(input.value);
  const floor = input.floor === undefined || input.floor === null ? null : round(input.floor);
  let ratio = input.ratio === undefined ? null : input.ratio;
  if (input.ratio === undefined && input.value !== null && input.floor) {
    // Throughput: higher is better, so the ratio is floor / value (slowdown, as for latencies).
    ratio = input.unit.endsWith('/s') ? input.floor / input.value : input.value / input.floor;
  }
  ratio = ratio === null ? null : Number(ratio.toFixed(3));
  let met: boolean | undefined;
  let target: string | undefined;
  if (input.target) {
    const measured = input.target.on === 'ratio' ? ratio : input.value;
    target = `${input.target.on === 'ratio' ? 'ratio' : 'value'} <= ${input.target.max}`;
    met = measured === null ? undefined : measured <= input.target.max;
  }
  return {
    name: input.name,
    value,
    unit: input.unit,
    floor,
    ratio,
    ...(target ? { target } : {}),
    ...(met !== undefined ? { met } : {}),
    ...(input.skipped ? { skipped: input.skipped } : {}),
    ...(input.note ? { note: input.note } : {}),
    machine,
  };
}

function cell(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : String(value);
}

function verdict(f: Figure): string {
  if (f.skipped) return 'skipped';
  if (f.met === undefined) return '';
  return f.met ? 'met' : 'MISSED';
}

/** Rows for a table: name, value, unit, floor, ratio, target, verdict. */
function rows(figures: readonly Figure[]): string[][] {
  return figures.map((f) => [f.name, f.skipped ? 'skipped' : cell(f.value), f.unit, cell(f.floor), cell(f.ratio), f.target ?? '', verdict(f)]);
}

const HEADER = ['figure', 'value', 'unit', 'floor', 'ratio', 'target', ''];

export function consoleTable(figures: readonly Figure[]): string {
  const all = [HEADER, ...rows(figures)];
  const widths = HEADER.map((_, column) => Math.max(...all.map((row) => row[column].length)));
  const line = (row: string[]) => row.map((text, column) => (column === 1 || column === 3 || column === 4 ? text.padStart(widths[column]) : text.padEnd(widths[column]))).join('  ').trimEnd();
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

export function markdownTable(figures: readonly Figure[]): string {
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  const lines = [`| ${HEADER.slice(0, 6).join(' | ')} | |`, '|---|--:|---|--:|--:|---|---|'];
  for (const row of rows(figures)) lines.push(`| ${row.map(escape).join(' | ')} |`);
  return lines.join('\n');
}
