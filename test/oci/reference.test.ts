import { ImageReference, InvalidReferenceError, formatReference, parseReference } from '../../lambda/oci/reference';

const D256 = `sha256:${'a'.repeat(64)}`;
const D512 = `sha512:${'b'.repeat(128)}`;

describe('parseReference: valid references', () => {
  test.each([
    ['alpine', 'docker.io', 'library/alpine', undefined, undefined],
    ['alpine:3.19', 'docker.io', 'library/alpine', '3.19', undefined],
    ['user/app', 'docker.io', 'user/app', undefined, undefined],
    ['index.docker.io/user/app:v1', 'docker.io', 'user/app', 'v1', undefined],
    ['docker.io/alpine', 'docker.io', 'library/alpine', undefined, undefined],
    ['localhost/app:v1', 'localhost', 'app', 'v1', undefined],
    ['localhost:5000/app', 'localhost:5000', 'app', undefined, undefined],
    ['127.0.0.1:5000/team/app:v1', '127.0.0.1:5000', 'team/app', 'v1', undefined],
    ['[::1]:5000/app:v1', '[::1]:5000', 'app', 'v1', undefined],
    ['[2001:db8::1]/app', '[2001:db8::1]', 'app', undefined, undefined],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/app@' + D256, '123456789012.dkr.ecr.eu-west-1.amazonaws.com', 'app', undefined, D256],
    ['ghcr.io/org/a.b_c__d---e/f:latest', 'ghcr.io', 'org/a.b_c__d---e/f', 'latest', undefined],
    ['registry.example.com/app:v1@' + D256, 'registry.example.com', 'app', 'v1', D256],
    ['registry.example.com/app@' + D512, 'registry.example.com', 'app', undefined, D512],
    ['reg-1.example.com:443/app:_tag-With.Upper', 'reg-1.example.com:443', 'app', '_tag-With.Upper', undefined],
    [`app:${'t'.repeat(128)}`, 'docker.io', 'library/app', 't'.repeat(128), undefined],
  ])('%s', (input, registry, repository, tag, digest) => {
    const reference = parseReference(input);
    expect(reference).toBeInstanceOf(ImageReference);
    expect({ ...reference }).toEqual({ registry, repository, tag, digest });
  });

  test('formats back to the normalised string and names the trust policy scope', () => {
    const reference = parseReference('127.0.0.1:5000/team/app:v1');
    expect(reference.toString()).toBe('127.0.0.1:5000/team/app:v1');
    expect(reference.repositoryName).toBe('127.0.0.1:5000/team/app');
    expect(parseReference('alpine').toString()).toBe('docker.io/library/alpine');
    expect(formatReference({ registry: 'r.io', repository: 'a', tag: 't', digest: D256 })).toBe(`r.io/a:t@${D256}`);
  });

  test('withDigest pins the reference and drops the tag; a bad digest is refused', () => {
    const pinned = parseReference('r.io/app:v1').withDigest(D256);
    expect(pinned.toString()).toBe(`r.io/app@${D256}`);
    expect(pinned.tagOrDigest).toBe(D256);
    expect(() => parseReference('r.io/app:v1').withDigest('sha256:1234')).toThrow(InvalidReferenceError);
  });
});

describe('parseReference: malformed references are refused with the input quoted', () => {
  test.each([
    ['', /reference is empty/],
    ['Foo:bar', /repository name must be lowercase/],
    ['UPPER', /must be lowercase/],
    ['r.io/App:v1', /must be lowercase/],
    ['r.io/app:', /tag after ":" is empty/],
    ['r.io/app@', /digest after "@" is empty/],
    ['r.io/app:-bad', /invalid tag "-bad"/],
    ['r.io/app:.bad', /invalid tag ".bad"/],
    [`r.io/app:${'t'.repeat(129)}`, /invalid tag/],
    ['r.io/app:v1:v2', /invalid registry|invalid tag|path component/],
    ['r.io/app@sha256:abc', /exactly 64 lowercase hex/],
    [`r.io/app@sha256:${'a'.repeat(65)}`, /exactly 64/],
    [`r.io/app@sha256:${'A'.repeat(64)}`, /lowercase hex/],
    [`r.io/app@sha512:${'a'.repeat(64)}`, /exactly 128/],
    [`r.io/app@md5:${'a'.repeat(32)}`, /unsupported algorithm "md5"/],
    [`r.io/app@${'a'.repeat(64)}`, /expected <algorithm>:<hex>/],
    [`r.io/app@${D256}@${D256}`, /more than one "@"/],
    ['r.io//app', /empty component/],
    ['r.io/app/', /empty component/],
    ['/app', /invalid registry host|empty/],
    ['r.io/-app', /invalid repository path component "-app"/],
    ['r.io/app-', /invalid repository path component "app-"/],
    ['r.io/a..b', /invalid repository path component "a..b"/],
    ['r.io/a___b', /invalid repository path component "a___b"/],
    ['r.io/a$b', /invalid repository path component/],
    ['r.io:99999/app', /invalid registry port "99999"/],
    ['r.io:port/app', /invalid registry port "port"/],
    ['-r.io/app', /invalid registry host "-r.io"/],
    ['r_io.com/app', /invalid registry host/],
    ['[::1/app', /unclosed "\["/],
    ['[::1]x/app', /unexpected text after the IPv6 address/],
    ['[zz::1]/app', /malformed IPv6/],
    ['r.io/app name', /whitespace/],
    ['r.io/app\n', /whitespace or control/],
    ['a'.repeat(64), /image ID/],
    [`r.io/${'a'.repeat(260)}`, /longer than 255/],
    ['x'.repeat(1000), /longer than/],
    [':v1', /repository name is empty/],
  ])('%j', (input, reason) => {
    let error: unknown;
    try {
      parseReference(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidReferenceError);
    const message = (error as Error).message;
    expect(message).toMatch(reason);
    const quoted = JSON.stringify(input.length > 600 ? `${input.slice(0, 600)}…` : input);
    expect(message.startsWith(`invalid reference ${quoted}: `)).toBe(true);
  });
});
