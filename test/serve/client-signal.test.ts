import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { Context } from 'hono';
import { clientSignal } from '../../src/serve/client-signal.js';

/** A request as @hono/node-server hands it to a route: the fetch Request's signal and the Node request/response (`env`). */
function contextOver(socket: EventEmitter, outgoing: EventEmitter, request = new AbortController()): Context {
  return { env: { incoming: { socket }, outgoing }, req: { raw: { signal: request.signal } } } as unknown as Context;
}

test('the signal fires on the socket\'s end (the client\'s FIN), before the response closes', () => {
  const socket = new EventEmitter();
  const signal = clientSignal(contextOver(socket, new EventEmitter()));
  assert.equal(signal.aborted, false);
  socket.emit('end');
  assert.equal(signal.aborted, true);
});

test('the request\'s own abort signal still counts', () => {
  const request = new AbortController();
  const signal = clientSignal(contextOver(new EventEmitter(), new EventEmitter(), request));
  request.abort();
  assert.equal(signal.aborted, true);
});

test('a keep-alive socket keeps no listener once each response is done', () => {
  const socket = new EventEmitter();
  for (let i = 0; i < 20; i++) {
    const outgoing = new EventEmitter();
    const signal = clientSignal(contextOver(socket, outgoing));
    outgoing.emit('close');
    assert.equal(signal.aborted, false);
  }
  assert.equal(socket.listenerCount('end'), 0);
  assert.equal(clientSignal({ env: undefined, req: { raw: { signal: AbortSignal.abort() } } } as unknown as Context).aborted, true, 'without a socket (app.request), the request\'s signal alone');
});
