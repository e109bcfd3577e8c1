import { ContentTooLargeError } from '../../lambda/oci/errors';
import { backoffDelay, fetchWithRetry, parseRetryAfter, readBodyLimited, RequestFailedError } from '../../lambda/oci/http';
import { freeLoopbackPort } from '../harness/distribution-registry';
import { ScriptedServer, startScriptedServer, streamBytes } from './support/scripted-server';

const TINY = { baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 20, timeoutMs: 2000 };
let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('parseRetryAfter and backoff', () => {
  test('reads delta-seconds and HTTP dates, ignores garbage', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  test('backoff doubles per attempt within [d/2, d] and is capped', () => {
    for (let attempt = 0; attempt < 6; attempt++) {
      const ceiling = Math.min(1000, 100 * 2 ** attempt);
      const delay = backoffDelay(attempt, 100, 1000);
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
  });
});

describe('fetchWithRetry', () => {
  test('retries a 503 and then returns the success', async () => {
    server = await startScriptedServer((_req, res, i) => (i < 2 ? res.writeHead(503).end() : res.writeHead(200).end('ok')));
    const response = await fetchWithRetry(`http://${server.host}/x`, {}, { ...TINY, retries: 3 });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok');
    expect(server.requests).toHaveLength(3);
  });

  test('honours Retry-After on 429, capped by maxRetryAfterMs', async () => {
    server = await startScriptedServer((_req, res, i) =>
      i === 0 ? res.writeHead(429, { 'retry-after': '120' }).end() : res.writeHead(200).end());
    const started = Date.now();
    const response = await fetchWithRetry(`http://${server.host}/x`, {}, { ...TINY, retries: 2 });
    expect(response.status).toBe(200);
    expect(server.requests).toHaveLength(2);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(15);
    expect(elapsed).toBeLessThan(2000);
  });

  test.each([404, 401, 400, 501])('does not retry a %i', async (status) => {
    server = await startScriptedServer((_req, res) => res.writeHead(status).end());
    const response = await fetchWithRetry(`http://${server.host}/x`, {}, { ...TINY, retries: 3 });
    expect(response.status).toBe(status);
    expect(server.requests).toHaveLength(1);
  });

  test('stops after the configured retries and returns the last answer', async () => {
    server = await startScriptedServer((_req, res) => res.writeHead(502).end());
    const response = await fetchWithRetry(`http://${server.host}/x`, {}, { ...TINY, retries: 2 });
    expect(response.status).toBe(502);
    expect(server.requests).toHaveLength(3);
  });

  test('retries connection errors, then fails naming the request and the attempts', async () => {
    const port = await freeLoopbackPort();
    const error = await fetchWithRetry(`http://127.0.0.1:${port}/v2/`, {}, { ...TINY, retries: 2 }).catch((e) => e);
    expect(error).toBeInstanceOf(RequestFailedError);
    expect(error.message).toMatch(new RegExp(`^GET http://127.0.0.1:${port}/v2/ failed after 3 attempt\\(s\\): .*ECONNREFUSED`));
  });

  test('times out a request that gets no answer', async () => {
    server = await startScriptedServer(() => undefined);
    const error = await fetchWithRetry(`http://${server.host}/slow`, {}, { ...TINY, retries: 1, timeoutMs: 50 }).catch((e) => e);
    expect(error).toBeInstanceOf(RequestFailedError);
    expect(error.message).toContain('timed out');
    expect(server.requests).toHaveLength(2);
  });
});

describe('readBodyLimited', () => {
  test('refuses by Content-Length before reading the body', async () => {
    server = await startScriptedServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(100 * 1024 * 1024) });
      streamBytes(server!, res, 100 * 1024 * 1024);
    });
    const response = await fetch(`http://${server.host}/big`);
    const error = await readBodyLimited(response, 1024, 'test body').catch((e) => e);
    expect(error).toBeInstanceOf(ContentTooLargeError);
    expect(error.message).toBe('test body is 104857600 bytes, more than the limit of 1024 bytes');
    expect(server.bytesWritten).toBeLessThan(20 * 1024 * 1024);
  });

  test('aborts a body without Content-Length as soon as it passes the limit', async () => {
    const total = 256 * 1024 * 1024;
    server = await startScriptedServer((_req, res) => {
      res.writeHead(200);
      streamBytes(server!, res, total);
    });
    const response = await fetch(`http://${server.host}/big`);
    const error = await readBodyLimited(response, 4 * 1024 * 1024, 'manifest x').catch((e) => e);
    expect(error).toBeInstanceOf(ContentTooLargeError);
    expect(error.message).toBe('manifest x is larger than the limit of 4194304 bytes');
    await new Promise((r) => setTimeout(r, 50));
    expect(server.bytesWritten).toBeLessThan(32 * 1024 * 1024);
  });

  test('reports a truncated body', async () => {
    server = await startScriptedServer((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write(Buffer.alloc(10));
      setTimeout(() => res.destroy(), 10);
    });
    const response = await fetch(`http://${server.host}/cut`);
    await expect(readBodyLimited(response, 4096, 'blob y')).rejects.toThrow(/^reading blob y failed after 10 bytes/);
  });
});
