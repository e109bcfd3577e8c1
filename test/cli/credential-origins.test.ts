/**
 * Credentials stay with the origin they are for: a registry that redirects an authenticated request to another
 * host must not hand that host the user's Basic credentials (fetch strips Authorization on a cross-origin
 * redirect, as Go's net/http does for oras-go), and the other host's challenge is not answered with them.
 */
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { runSignedImage } from '../util/cli';

const USER = 'alice';
const PASSWORD = 's3cret-Pa55word';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

let registry: Server;
let elsewhere: Server;
let registryHost: string;
const seenElsewhere: IncomingHttpHeaders[] = [];
let challengeElsewhere = false;

beforeAll(async () => {
  elsewhere = createServer((request, response) => {
    seenElsewhere.push(request.headers);
    if (challengeElsewhere) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="elsewhere"' }).end();
      return;
    }
    response.writeHead(404).end();
  });
  const elsewhereHost = await listen(elsewhere);
  registry = createServer((request, response) => {
    if (request.headers.authorization !== BASIC) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="registry"' }).end();
      return;
    }
    // Authenticated: send the client to another origin (another port of the same address is another origin).
    response.writeHead(307, { location: `http://${elsewhereHost}${request.url}` }).end();
  });
  registryHost = await listen(registry);
});

afterAll(async () => {
  await new Promise((resolve) => registry.close(resolve));
  await new Promise((resolve) => elsewhere.close(resolve));
});

beforeEach(() => {
  seenElsewhere.length = 0;
});

test('a redirect to another origin does not carry the Basic credentials', async () => {
  challengeElsewhere = false;
  const run = await runSignedImage(['list', '--insecure-registry', '-u', USER, '--password-stdin', `${registryHost}/app:v1`], { stdin: PASSWORD });

  expect(run.code).toBe(1);
  expect(seenElsewhere.length).toBeGreaterThan(0);
  for (const headers of seenElsewhere) expect(headers.authorization).toBeUndefined();
  expect(run.stdout + run.stderr).not.toContain(PASSWORD);
});

test('a challenge from the host a redirect led to is not answered with the registry\'s credentials', async () => {
  challengeElsewhere = true;
  const run = await runSignedImage(['list', '--insecure-registry', '-u', USER, '--password-stdin', `${registryHost}/app:v1`], { stdin: PASSWORD });

  expect(run.code).toBe(1);
  expect(run.stderr).toContain('credentials are sent only to the registry itself and to the token service it names');
  for (const headers of seenElsewhere) expect(headers.authorization).toBeUndefined();
});
