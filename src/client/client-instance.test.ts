import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SluiceError } from '../common/errors.js';
import { ClientInstance } from './client-instance.js';
import { createRequest, createResponse } from '../protocol/remoting-command.js';
import { ResponseCode } from '../protocol/response-code.js';
import type { RemotingTransport } from './transport.js';

/** A client whose name server is `invoke`, with `count` topics to refresh; errors collected. */
function refreshingClient(
  invoke: RemotingTransport['invoke'],
  count: number,
): { client: ClientInstance; errors: Error[] } {
  const transport: RemotingTransport = {
    invoke,
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
  const topics = Array.from({ length: count }, (_, i) => `T${i}`);
  client.register({ topics: () => topics });
  return { client, errors };
}

test('a route refresh that fails for every topic reports one error, with the count', async () => {
  const { client, errors } = refreshingClient(
    () => Promise.reject(new SluiceError('CONNECTION_CLOSED', 'name server is gone')),
    500,
  );
  await client.refreshAllRoutes();
  assert.equal(errors.length, 1);
  // Lookups already in flight when the 64th failure in a row came in still end (and fail).
  const m =
    /route refresh failed for (\d+) of 500 topics \((\d+) not tried after \1 failures in a row\); the first: /.exec(
      errors[0]!.message,
    );
  assert.ok(m, errors[0]!.message);
  const failed = Number(m[1]);
  assert.ok(failed >= 64 && failed < 64 + 16, `${failed} failures before giving up`);
  assert.equal(failed + Number(m[2]), 500);
  assert.match(errors[0]!.message, /name server is gone/);
  client.close();
});

test('a route refresh keeps at most 16 lookups in flight, reaches every topic, and is not doubled', async () => {
  let inFlight = 0;
  let most = 0;
  let lookups = 0;
  const { client, errors } = refreshingClient(async (_addr, request) => {
    inFlight++;
    lookups++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, 1));
    inFlight--;
    // Every other topic fails: failures with successes in between do not stop the round.
    if (Number(request.extFields.topic!.slice(1)) % 2 === 0) {
      throw new SluiceError('TIMEOUT', 'slow name server');
    }
    return createResponse(createRequest(0), ResponseCode.TOPIC_NOT_EXIST);
  }, 200);
  const a = client.refreshAllRoutes();
  assert.equal(client.refreshAllRoutes(), a, 'a round under way is shared');
  await a;
  assert.equal(lookups, 200);
  assert.equal(most, 16);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /route refresh failed for 100 of 200 topics; the first: /);
  client.close();
});
