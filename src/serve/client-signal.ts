/**
 * An abort signal for "the client has gone away", fired as early as the server can know. The
 * request's own signal (@hono/node-server) fires on the response's 'close', which libuv delivers
 * in its close-callbacks phase, after the check phase in which the scheduler steps: one more
 * decode step would run for a client already gone. The socket's 'end' (the client's FIN) arrives
 * in the poll phase before it; Node's HTTP server, which does not allow half-open connections
 * (httpAllowHalfOpen), aborts the connection's requests on it too.
 */
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';

export function clientSignal(c: Context): AbortSignal {
  const { incoming, outgoing } = (c.env ?? {}) as Partial<HttpBindings>;
  const socket = incoming?.socket;
  if (!socket || !outgoing) return c.req.raw.signal; // not served over a socket (app.request in tests)
  const ended = new AbortController();
  const onEnd = (): void => ended.abort(new Error('the client closed its connection'));
  socket.once('end', onEnd);
  // A keep-alive socket serves more requests: stop listening once this response is done.
  outgoing.once('close', () => socket.off('end', onEnd));
  return AbortSignal.any([c.req.raw.signal, ended.signal]);
}
