import { NotFoundError, RegistryError } from './errors';
import { discardBody, readBodyLimited } from './http';

/** The first entry of a distribution error body: `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"..."}]}`. */
export interface DistributionErrorDetail {
  readonly code?: string;
  readonly message?: string;
}

const ERROR_BODY_LIMIT = 16 * 1024;

/** Pure: the first error of a distribution error body, or an empty detail for anything else. */
export function parseDistributionError(body: Uint8Array): DistributionErrorDetail {
  try {
    const json = JSON.parse(new TextDecoder().decode(body));
    const first = Array.isArray(json?.errors) ? json.errors[0] : undefined;
    return {
      code: typeof first?.code === 'string' ? first.code.slice(0, 64) : undefined,
      message: typeof first?.message === 'string' ? first.message.slice(0, 300) : undefined,
    };
  } catch {
    return {};
  }
}

/** Reads the (bounded) error body of a failed response. */
export async function readDistributionError(response: Response): Promise<DistributionErrorDetail> {
  try {
    return parseDistributionError(await readBodyLimited(response, ERROR_BODY_LIMIT, 'error response'));
  } catch {
    await discardBody(response);
    return {};
  }
}

/**
 * The error for an unexpected answer to a request about `what` (e.g. `manifest 127.0.0.1:5000/app:v1`):
 * NotFoundError for 404, RegistryError otherwise, with the registry's error code and message.
 */
export async function unexpectedResponse(
  response: Response,
  registry: string,
  what: string,
  redact: (text: string) => string = (text) => text,
): Promise<RegistryError> {
  const detail = await readDistributionError(response);
  // A registry may echo what it was sent (a token, a password) in its error message: strip the client's secrets.
  const explanation = detail.code ? ` (${detail.code}${detail.message ? `: ${redact(detail.message)}` : ''})` : '';
  const redirected = response.redirected && response.url ? ` after a redirect to ${new URL(response.url).origin}` : '';
  const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}${redirected}`;
  if (response.status === 404) {
    return new NotFoundError(`${what} was not found: registry ${registry} answered ${status}${explanation}`, registry, detail.code);
  }
  return new RegistryError(`registry ${registry} answered ${status} for ${what}${explanation}`, registry, response.status, detail.code);
}
