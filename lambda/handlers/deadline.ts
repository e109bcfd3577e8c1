/** The guard that abandons the work, and reports failure, shortly before the function times out. */
import { LambdaContext } from './event';

/** Failure is reported this long before the function's deadline (at most half the time left at the start). */
export const TIMEOUT_MARGIN_MS = 3000;

/** The function was about to time out; the work was abandoned. */
export class DeadlineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadlineError';
  }
}

/**
 * Aborts the work shortly before the function's deadline: `TIMEOUT_MARGIN_MS` before it, or half the time
 * left when less than twice the margin is left. Without a context (tests, local calls) it never fires.
 */
export class DeadlineGuard {
  readonly signal: AbortSignal;
  /** Rejects with a DeadlineError when the guard fires. */
  readonly expired: Promise<never>;
  /** Milliseconds left when the invocation started, if known. */
  readonly remainingMs?: number;
  private readonly controller = new AbortController();
  private timer?: ReturnType<typeof setTimeout>;

  constructor(context: Partial<LambdaContext> | undefined, message: (remainingMs: number) => string) {
    this.signal = this.controller.signal;
    let reject: (error: Error) => void = () => undefined;
    this.expired = new Promise<never>((_, rejectExpired) => {
      reject = rejectExpired;
    });
    this.expired.catch(() => undefined);
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
    if (remaining === undefined || !Number.isFinite(remaining)) return;
    this.remainingMs = remaining;
    const margin = Math.min(TIMEOUT_MARGIN_MS, remaining / 2);
    this.timer = setTimeout(() => {
      const error = new DeadlineError(message(remaining));
      this.controller.abort(error);
      reject(error);
    }, Math.max(0, remaining - margin));
    this.timer.unref?.();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

/**
 * `target` with every method call refused once `signal` is aborted, so that work abandoned at the deadline
 * stops at the next registry or signing call instead of going on in a later invocation of a reused
 * execution environment.
 */
export function abortable<T extends object>(target: T, signal: AbortSignal): T {
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        signal.throwIfAborted();
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
}
