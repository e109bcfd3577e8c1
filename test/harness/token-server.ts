import { randomBytes, webcrypto } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { RunningRegistry, startRegistry, stopRegistry } from './distribution-registry';

/** How the token endpoint answers, changeable while it runs. */
export interface TokenServerBehaviour {
  /** `expires_in` of issued tokens, in seconds. */
  expiresInSeconds: number;
  /** The JSON field of the token: distribution's `token` or OAuth2's `access_token`. */
  field: 'token' | 'access_token';
}

/** A real distribution registry with `auth: token`, and the token endpoint it trusts. */
export interface TokenAuthRegistry {
  /** `127.0.0.1:<port>` of the registry. */
  readonly host: string;
  readonly username: string;
  readonly password: string;
  /** The token endpoint URL (the challenge's realm). */
  readonly realm: string;
  /** How many tokens the endpoint has issued, and the scopes asked for each. */
  readonly issued: { scopes: string[] }[];
  readonly behaviour: TokenServerBehaviour;
  stop(): Promise<void>;
}

const SERVICE = 'signed-image-test-registry';
const ISSUER = 'signed-image-test-token-issuer';
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

const base64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');

/**
 * Starts a token endpoint on loopback (checks Basic credentials, grants the requested repository scopes
 * as ES256 JWTs with an `x5c` header) and a distribution registry that verifies those tokens against
 * the endpoint's self-signed certificate.
 */
export async function startTokenAuthRegistry(): Promise<TokenAuthRegistry> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const certificateDer = await selfSignedCertificate(keys);
  const x5c = Buffer.from(certificateDer).toString('base64');
  const username = 'token-user';
  const password = randomBytes(12).toString('hex');
  const issued: { scopes: string[] }[] = [];
  const behaviour: TokenServerBehaviour = { expiresInSeconds: 300, field: 'token' };

  const signToken = async (scopes: string[]): Promise<string> => {
    const seconds = Math.floor(Date.now() / 1000);
    const access = scopes.flatMap((scope) => {
      const match = /^repository:(.+):([a-z,*]+)$/.exec(scope);
      return match ? [{ type: 'repository', name: match[1], actions: match[2].split(',') }] : [];
    });
    const header = { typ: 'JWT', alg: 'ES256', x5c: [x5c] };
    const claims = {
      iss: ISSUER,
      sub: username,
      aud: SERVICE,
      exp: seconds + behaviour.expiresInSeconds,
      nbf: seconds - 10,
      iat: seconds,
      jti: randomBytes(8).toString('hex'),
      access,
    };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = await webcrypto.subtle.sign(ALGORITHM, keys.privateKey, new TextEncoder().encode(signingInput));
    return `${signingInput}.${base64url(new Uint8Array(signature))}`;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    if (url.pathname !== '/token') {
      response.writeHead(404).end();
    } else if (request.headers.authorization !== expected) {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
    } else {
      const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
      issued.push({ scopes });
      const token = await signToken(scopes);
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ [behaviour.field]: token, expires_in: behaviour.expiresInSeconds, issued_at: new Date().toISOString() }));
    }
  };
  const server: Server = createServer((request, response) => {
    handle(request, response).catch(() => response.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;

  let registry: RunningRegistry;
  try {
    registry = await startRegistry({ tokenAuth: { realm, service: SERVICE, issuer: ISSUER, rootCertBundlePem: toPem(certificateDer) } });
  } catch (error) {
    server.close();
    throw error;
  }
  return {
    host: registry.host,
    username,
    password,
    realm,
    issued,
    behaviour,
    stop: async () => {
      stopRegistry(registry);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A self-signed ECDSA P-256 CA certificate (DER) for the key pair, valid from a minute ago for a day. */
async function selfSignedCertificate(keys: webcrypto.CryptoKeyPair): Promise<Uint8Array> {
  const engine = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as pkijs.CryptoEngineParameters['crypto'] });
  const certificate = new pkijs.Certificate();
  certificate.version = 2;
  certificate.serialNumber = new asn1js.Integer({ value: 1 + Math.floor(Math.random() * 1e9) });
  const name = new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: 'signed-image test token issuer' }) });
  certificate.subject.typesAndValues.push(name);
  certificate.issuer.typesAndValues.push(name);
  certificate.notBefore.value = new Date(Date.now() - 60_000);
  certificate.notAfter.value = new Date(Date.now() + 24 * 3600_000);
  const basicConstraints = new pkijs.BasicConstraints({ cA: true });
  certificate.extensions = [
    new pkijs.Extension({ extnID: '2.5.29.19', critical: true, extnValue: basicConstraints.toSchema().toBER(false), parsedValue: basicConstraints }),
  ];
  await certificate.subjectPublicKeyInfo.importKey(keys.publicKey as unknown as Parameters<pkijs.PublicKeyInfo['importKey']>[0], engine);
  await certificate.sign(keys.privateKey as unknown as Parameters<pkijs.Certificate['sign']>[0], 'SHA-256', engine);
  return new Uint8Array(certificate.toSchema().toBER(false));
}

function toPem(der: Uint8Array): string {
  const body = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}
