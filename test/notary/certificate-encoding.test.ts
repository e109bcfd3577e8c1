import { parseCertificate } from '../../lambda/notary/certificate';
import { createChain } from '../util/pki';

describe('certificate encoding', () => {
  test('a DER certificate parses; the same certificate with bytes after it is refused, naming the input', async () => {
    const { leaf } = await createChain();
    expect(parseCertificate(leaf.der, 'x5c[0]').sha256).toMatch(/^[0-9a-f]{64}$/);
    const padded = new Uint8Array([...leaf.der, 0]);
    expect(() => parseCertificate(padded, 'x5c[0]')).toThrow('x5c[0] is not a valid X.509 certificate: 1 bytes follow the DER certificate');
  });
});
