import { ContentTooLargeError } from './errors';

/** Timeouts and retries of registry requests. */
export interface HttpOptions {
  /** Per-attempt timeout, covering the headers and the body. @default 30000 */
  readonly timeoutMs?: number;
  /** Retries after the first attempt, on 429, 5xx and connection errors. @default 3 */
  readonly retries?: number;
  /** Backoff before the first retry; doubles on each retry, with jitter. @default 200 */
  readonly baseDelayMs?: number;
  /** Upper bound of one backoff delay. @default 5000 */
  readonly maxDelayMs?: number;
  /** Upper bound of a delay asked for by `Retry-After`. @default 10000 */
  readonly maxRetryAfterMs?: number;
  /** The fetch implementation (tests may inject one). @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

const DEFAULTS = {
  timeoutMs: 30_000,
  retries: 3,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 10_000,
};

/** Hard cap on retries whatever the caller asks, so a loop is always bounded. */
const MAX_RETRIES = 10;

/** 501 and 505 say the server will never do it: retrying cannot help. */
const NON_RETRYABLE_5XX = new Set([501, 505]);

export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599 && !NON_RETRYABLE_5XX.has(status));
}

/**
 * Milliseconds to wait from a `Retry-After` header (delta-seconds or an HTTP date), or undefined when
 * absent or unparseable. Never negative.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Exponential backoff with jitter: a random delay in [d/2, d] with d = base * 2^attempt, capped. */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Describes a request for messages: method and URL without query (which may carry upload state). */
export function describeRequest(method: string, url: string): string {
  const parsed = new URL(url);
  return `${method} ${parsed.origin}${parsed.pathname}`;
}

/** A request failed before any response (connection refused/reset, DNS, timeout). */
export class RequestFailedError extends Error {
  constructor(readonly request: string, readonly attempts: number, cause: unknown) {
    super(`${request} failed after ${attempts} attempt(s): ${describeCause(cause)}`, { cause });
    this.name = 'RequestFailedError';
  }
}

/**
 * A response body broke off while it was read (connection reset or closed early, timeout, a length that
 * does not match the bytes sent): the headers arrived, the content did not. Another attempt may succeed.
 */
export class ResponseBodyError extends Error {
  constructor(readonly what: string, readonly bytesRead: number, cause: unknown) {
    super(`reading ${what} failed after ${bytesRead} bytes: ${describeCause(cause)}`, { cause });
    this.name = 'ResponseBodyError';
  }
}

function describeCause(cause: unknown): string {
  // Duck-typed: errors from fetch may come from another realm (e.g. under jest), failing instanceof.
  if (typeof cause === 'object' && cause !== null && 'message' in cause) {
    const error = cause as { name?: string; message: string; cause?: unknown };
    if (error.name === 'TimeoutError') return 'the request timed out';
    const inner = error.cause as { code?: unknown; message?: unknown } | undefined;
    const code = inner && typeof inner === 'object' && 'code' in inner ? String(inner.code) : '';
    if (code) return `${error.message} (${code})`;
    return inner && typeof inner.message === 'string' ? `${error.message}: ${inner.message}` : error.message;
  }
  return String(cause);
}

/**
 * Whether a fetch failure is the network's (refused, reset, DNS, TLS, timeout: another attempt may succeed) rather
 * than the fetch layer refusing the request itself (a TypeError whose cause carries no system error code).
 */
function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, cause } = error as { name?: string; cause?: unknown };
  if (name === 'TimeoutError') return true;
  if (name !== 'TypeError') return true;
  return typeof cause === 'object' && cause !== null && typeof (cause as { code?: unknown }).code === 'string';
}

/**
 * A body fetch can send again when a 307/308 redirect asks for the same request elsewhere: Node's fetch cannot
 * replay a Uint8Array body on a redirect ("fetch failed"), but it replays a Blob.
 */
function replayableBody(body: RequestInit['body']): RequestInit['body'] {
  return body instanceof Uint8Array ? new Blob([body as Uint8Array<ArrayBuffer>]) : body;
}

/**
 * `fetch` with a per-attempt timeout and bounded retries (backoff + jitter, `Retry-After` honoured and
 * capped) on 429, 5xx and connection errors. Other answers, 4xx included, are returned at once.
 * The request body must be replayable (a Uint8Array or string), as it may be sent several times; a Uint8Array
 * is sent as a Blob so that a 307/308 redirect can replay it too. A failure of the fetch layer itself (not of
 * the connection) is not retried.
 * The last retryable response is returned when retries run out, so the caller reports its status.
 */
export async function fetchWithRetry(url: string, init: RequestInit, options: HttpOptions = {}): Promise<Response> {
  const settings = { ...DEFAULTS, ...definedOnly(options) };
  const retries = Math.min(Math.max(0, settings.retries), MAX_RETRIES);
  const doFetch = options.fetch ?? globalThis.fetch;
  const method = init.method ?? 'GET';
  for (let attempt = 0; ; attempt++) {
    let response: Response;
    try {
      response = await doFetch(url, {
        ...init,
        body: replayableBody(init.body),
        redirect: init.redirect ?? 'follow',
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
    } catch (error) {
      if (attempt >= retries || !isConnectionError(error)) throw new RequestFailedError(describeRequest(method, url), attempt + 1, error);
      await sleep(backoffDelay(attempt, settings.baseDelayMs, settings.maxDelayMs));
      continue;
    }
    if (!isRetryableStatus(response.status) || attempt >= retries) return response;
    const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
    await discardBody(response);
    const delay = retryAfter !== undefined
      ? Math.min(retryAfter, settings.maxRetryAfterMs)
      : backoffDelay(attempt, settings.baseDelayMs, settings.maxDelayMs);
    await sleep(delay);
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Releases a response's connection without reading its body. */
export async function discardBody(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // the body is already closed or errored: nothing to release
  }
}

/**
 * Reads a response body, refusing it as soon as it passes `maxBytes`: first by its Content-Length,
 * then while streaming, so an oversized body is never buffered whole.
 * @param what names the content in errors, e.g. `manifest 127.0.0.1:5000/app:v1`.
 */
export async function readBodyLimited(response: Response, maxBytes: number, what: string): Promise<Uint8Array> {
  const declared = response.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > maxBytes) {
    await discardBody(response);
    throw new ContentTooLargeError(what, maxBytes, Number(declared));
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new ContentTooLargeError(what, maxBytes);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof ContentTooLargeError) throw error;
    throw new ResponseBodyError(what, total, error);
  }
  return concat(chunks, total);
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
