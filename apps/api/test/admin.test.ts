import { startStack, type TestStack } from '../../../test/support/stack';

/** bull-board at /admin/queues, behind basic auth from ADMIN_USER/ADMIN_PASSWORD. */
let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ env: { ADMIN_USER: 'ops', ADMIN_PASSWORD: 's3cret' } });
});
afterAll(() => stack.stop());

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

it('asks for credentials and refuses wrong ones', async () => {
  const none = await fetch(`${stack.url}/admin/queues`);
  expect(none.status).toBe(401);
  expect(none.headers.get('www-authenticate')).toMatch(/^Basic/);
  expect((await fetch(`${stack.url}/admin/queues`, { headers: { authorization: basic('ops', 'wrong') } })).status).toBe(401);
});

it('serves the queue UI and its API to the admin', async () => {
  const page = await fetch(`${stack.url}/admin/queues`, { headers: { authorization: basic('ops', 's3cret') } });
  expect(page.status).toBe(200);
  expect(await page.text()).toMatch(/<html/i);
  const queues = await fetch(`${stack.url}/admin/queues/api/queues`, { headers: { authorization: basic('ops', 's3cret') } });
  expect(queues.status).toBe(200);
  const body = (await queues.json()) as { queues: Array<{ name: string }> };
  expect(body.queues.map((q) => q.name)).toContain(stack.config.queueName);
});
