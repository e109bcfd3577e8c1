import { authRegistry, plainRegistry } from './env';

describe('test harness', () => {
  test('the plain registry answers the distribution API without credentials', async () => {
    const response = await fetch(`http://${plainRegistry()}/v2/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
  });

  test('the htpasswd registry refuses anonymous requests and accepts its user', async () => {
    const { host, username, password } = authRegistry();
    const anonymous = await fetch(`http://${host}/v2/`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    const authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    const authenticated = await fetch(`http://${host}/v2/`, { headers: { authorization } });
    expect(authenticated.status).toBe(200);
  });
});
