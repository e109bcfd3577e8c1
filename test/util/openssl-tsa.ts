/**
 * A loopback RFC 3161 Timestamping Authority for tests: a node HTTP server answering each
 * `application/timestamp-query` with `openssl ts -reply`, signed by a TSA certificate from test/util/pki
 * (extendedKeyUsage critical timeStamping).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CertificateOptions, createRoot, createTsaLeaf, TestCertificate } from './pki';

const run = promisify(execFile);

export interface LoopbackTsa {
  readonly url: string;
  readonly root: TestCertificate;
  /** The TSA's own certificate. */
  readonly certificate: TestCertificate;
  /** The PEM file of the TSA root, what --timestamp-root-cert takes. */
  readonly rootFile: string;
  /** Every TimeStampReq received, DER. */
  readonly requests: Uint8Array[];
  close(): Promise<void>;
}

/** @param tsaCertificate options of the TSA's certificate, e.g. a CRL distribution point */
export async function startOpensslTsa(tsaCertificate: CertificateOptions = {}): Promise<LoopbackTsa> {
  const dir = mkdtempSync(join(tmpdir(), 'openssl-tsa-'));
  const root = await createRoot({ subject: 'CN=Test TSA Root,O=Acme,C=US' });
  const leaf = await createTsaLeaf(root, { subject: 'CN=Test TSA,O=Acme,C=US', ...tsaCertificate });
  writeFileSync(join(dir, 'tsa.pem'), leaf.pem);
  writeFileSync(join(dir, 'tsa.key'), leaf.keyPem);
  writeFileSync(join(dir, 'root.pem'), root.pem);
  writeFileSync(join(dir, 'serial'), '01\n');
  // openssl's ts section (apps/openssl.cnf): ESSCertIDv2 with SHA-256 names the TSA certificate.
  writeFileSync(
    join(dir, 'tsa.cnf'),
    [
      '[ tsa ]',
      'default_tsa = tsa_config',
      '[ tsa_config ]',
      `serial = ${join(dir, 'serial')}`,
      `signer_cert = ${join(dir, 'tsa.pem')}`,
      `signer_key = ${join(dir, 'tsa.key')}`,
      'signer_digest = sha256',
      'default_policy = 1.2.3.4.1',
      'digests = sha256, sha384, sha512',
      'accuracy = secs:1',
      'ordering = yes',
      'tsa_name = no',
      'ess_cert_id_chain = no',
      'ess_cert_id_alg = sha256',
      '',
    ].join('\n'),
  );

  const requests: Uint8Array[] = [];
  let count = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const query = Buffer.concat(chunks);
      requests.push(new Uint8Array(query));
      const id = ++count;
      const queryFile = join(dir, `${id}.tsq`);
      const replyFile = join(dir, `${id}.tsr`);
      writeFileSync(queryFile, query);
      run('openssl', ['ts', '-reply', '-config', join(dir, 'tsa.cnf'), '-queryfile', queryFile, '-out', replyFile]).then(
        () => {
          response.writeHead(200, { 'content-type': 'application/timestamp-reply' });
          response.end(readFileSync(replyFile));
        },
        (error: Error) => {
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end(error.message);
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    root,
    certificate: leaf,
    rootFile: join(dir, 'root.pem'),
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
