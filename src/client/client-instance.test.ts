import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SluiceError } from '../common/errors.js';
import { ClientInstance } from './client-instance.js';
import type { RemotingTransport } from './transport.js';

test('a route refresh that fails for every topic reports one error, with the count', async () => {
  const transport: RemotingTransport = {
    invoke: () => Promise.reject(new SluiceError('CONNECTION_CLOSED', 'name server is gone')),
    invokeOneway: () => Promise.resolve(),
    registerHandler: () => undefined,
    close: () => undefined,
  };
  const errors: Error[] = [];
  const client = new ClientInstance({
    nameServer: '127.0.0.1:1',
    transport,
    onError: (err) => errors.push(err),
  });
  const topics = Array.from({ length: 500 }, (_, i) => `T${i}`);
  client.register({ topics: () => topics });
  await client.refreshAllRoutes();
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /route refresh failed for 500 of 500 topics; the first: /);
  assert.match(errors[0]!.message, /name server is gone/);
  client.close();
});
