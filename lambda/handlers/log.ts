/**
 * A small structured logger for the handlers: one JSON object per line with a level, a message and only
 * the fields declared in `LogFields`. There is deliberately no way to log an arbitrary object: the
 * CodePipeline job event carries artifact credentials (`data.artifactCredentials`) and must never reach
 * the logs, nor must `UserParameters` as written or any credential.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The fields a log line may carry. Values are strings, numbers or booleans chosen by the handlers. */
export interface LogFields {
  readonly handler?: string;
  readonly requestId?: string;
  readonly jobId?: string;
  readonly invocation?: 'job' | 'direct';
  readonly imageUri?: string;
  readonly digest?: string;
  readonly signatureDigest?: string;
  readonly profileArn?: string;
  readonly signingJobArn?: string;
  readonly reused?: boolean;
  readonly buildArn?: string;
  /** An attestation manifest's digest. */
  readonly attestationDigest?: string;
  /** A provenance's runDetails.builder.id. */
  readonly builderId?: string;
  /** An attestation type or SBOM format. */
  readonly attestationType?: string;
  readonly verified?: boolean;
  readonly level?: string;
  readonly check?: string;
  readonly code?: string;
  readonly step?: string;
  readonly durationMs?: number;
  readonly remainingMs?: number;
  readonly errorName?: string;
  readonly error?: string;
  readonly outcome?: string;
}

/** Where log lines go; the console by default (Lambda sends it to CloudWatch Logs). */
export interface LogSink {
  log(line: string): void;
  warn(line: string): void;
  error(line: string): void;
}

/** Messages and error texts are cut at this length so a log line stays readable. */
const MAX_TEXT = 4000;

export class Logger {
  constructor(
    private readonly fields: LogFields = {},
    private readonly sink: LogSink = console,
  ) {}

  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger {
    return new Logger({ ...this.fields, ...fields }, this.sink);
  }

  debug(message: string, fields?: LogFields): void {
    if (process.env.LOG_LEVEL?.toLowerCase() === 'debug') this.write('debug', message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.write('info', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.write('warn', message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.write('error', message, fields);
  }

  private write(level: LogLevel, message: string, fields: LogFields = {}): void {
    const entry: Record<string, unknown> = { level, message: truncate(message), time: new Date().toISOString() };
    for (const [key, value] of Object.entries({ ...this.fields, ...fields })) {
      if (value === undefined) continue;
      entry[key] = typeof value === 'string' ? truncate(value) : value;
    }
    const line = JSON.stringify(entry);
    if (level === 'error') this.sink.error(line);
    else if (level === 'warn') this.sink.warn(line);
    else this.sink.log(line);
  }
}

function truncate(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

/** The fields that describe an error: its name and message (never its cause chain or properties). */
export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) return { errorName: error.name, error: error.message };
  return { errorName: typeof error, error: String(error) };
}
