import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { ecrCredentials } from '../../lambda/handlers/registry';
import { parseEcrHost } from '../../lambda/oci/ecr';

const HOST = parseEcrHost('111122223333.dkr.ecr.us-east-1.amazonaws.com')!;
const OTHER_ACCOUNT = parseEcrHost('444455556666.dkr.ecr.us-east-1.amazonaws.com')!;

describe('ECR credentials of the handlers', () => {
  const ecr = mockClient(ECRClient);
  beforeEach(() => {
    ecr.reset();
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [{
        authorizationToken: Buffer.from('AWS:token-value').toString('base64'),
        expiresAt: new Date(Date.now() + 12 * 3600_000),
      }],
    });
  });
  afterAll(() => ecr.restore());

  test('are fetched once per client and registry, and reused by later invocations', async () => {
    const client = new ECRClient({ region: 'us-east-1' });
    expect(await ecrCredentials(HOST, client)()).toEqual({ username: 'AWS', password: 'token-value' });
    expect(await ecrCredentials(HOST, client)()).toEqual({ username: 'AWS', password: 'token-value' });
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(1);

    await ecrCredentials(OTHER_ACCOUNT, client)();
    await ecrCredentials(HOST, new ECRClient({ region: 'us-east-1' }))();
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(3);
  });
});
