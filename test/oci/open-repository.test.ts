import { computeDigest, parseDigest, sha256Digest, verifyDigest } from '../../lambda/oci/digest';
import { DigestMismatchError, InvalidDigestError, InvalidReferenceError } from '../../lambda/oci/errors';
import { OciLayoutRepository } from '../../lambda/oci/layout-repository';
import { openRepository, parseLayoutReference } from '../../lambda/oci/open-repository';
import { RegistryRepository } from '../../lambda/oci/registry-repository';

const D256 = `sha256:${'c'.repeat(64)}`;

describe('openRepository', () => {
  test('opens a registry repository for a reference with a tag or digest (no connection is made)', () => {
    const opened = openRepository('127.0.0.1:5000/team/app:v1', { plainHttp: true });
    expect(opened.repository).toBeInstanceOf(RegistryRepository);
    expect(opened.repository.name).toBe('127.0.0.1:5000/team/app');
    expect(opened.tagOrDigest).toBe('v1');
    expect(opened.displayReference).toBe('127.0.0.1:5000/team/app:v1');
    expect(opened.repositoryName).toBe('127.0.0.1:5000/team/app');
    expect(openRepository(`r.io/app:v1@${D256}`).tagOrDigest).toBe(D256);
  });

  test('refuses a registry reference without tag or digest, and a malformed one', () => {
    expect(() => openRepository('r.io/app')).toThrow('invalid reference "r.io/app": a tag or a digest is required');
    expect(() => openRepository('r.io/App:v1')).toThrow(InvalidReferenceError);
  });

  test('opens an OCI layout with <dir>:<tag> or <dir>@<digest>, scoped local/<dir name>', () => {
    const opened = openRepository('/tmp/some.dir/my-layout:v1', { ociLayout: true });
    expect(opened.repository).toBeInstanceOf(OciLayoutRepository);
    expect(opened.tagOrDigest).toBe('v1');
    expect(opened.repositoryName).toBe('local/my-layout');
    expect(opened.displayReference).toBe('/tmp/some.dir/my-layout:v1');
    expect(parseLayoutReference(`./layout@${D256}`)).toEqual({ directory: './layout', digest: D256, tag: undefined, repositoryName: 'local/layout' });
  });

  test.each([
    ['/tmp/layout', /needs a tag or a digest/],
    ['/tmp/layout:', /invalid tag ""/],
    ['/tmp/layout@sha256:12', /exactly 64/],
    [':v1', /directory is empty/],
  ])('refuses the layout reference %j', (input, reason) => {
    expect(() => parseLayoutReference(input)).toThrow(reason);
    expect(() => parseLayoutReference(input)).toThrow(`invalid reference ${JSON.stringify(input)}`);
  });
});

describe('digests', () => {
  const bytes = new TextEncoder().encode('hello');
  test('computes and checks sha256 and sha512', () => {
    expect(sha256Digest(bytes)).toBe('sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    const sha512 = computeDigest(bytes, 'sha512');
    expect(parseDigest(sha512)).toEqual({ algorithm: 'sha512', hex: sha512.slice(7) });
    expect(() => verifyDigest(bytes, sha512, 'blob x')).not.toThrow();
  });

  test('a mismatch names the content and both digests', () => {
    expect(() => verifyDigest(bytes, D256, 'blob r.io/app@x')).toThrow(DigestMismatchError);
    expect(() => verifyDigest(bytes, D256, 'blob r.io/app@x')).toThrow(
      `digest mismatch for blob r.io/app@x: expected ${D256}, got ${sha256Digest(bytes)}`,
    );
  });

  test.each(['sha256:abc', `sha256:${'C'.repeat(64)}`, `md5:${'a'.repeat(32)}`, 'nocolon', `sha512:${'a'.repeat(64)}`])(
    'refuses %j', (digest) => {
      expect(() => parseDigest(digest)).toThrow(InvalidDigestError);
      expect(() => parseDigest(digest)).toThrow(`invalid digest ${JSON.stringify(digest)}`);
    });
});
