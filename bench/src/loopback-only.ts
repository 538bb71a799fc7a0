/**
 * Preloaded into the Portkey gateway (`node --import`): its start script calls
 * `serve({ fetch, port })` with no hostname, so @hono/node-server listens on
 * every interface, and neither its arguments (--port, --headless) nor its
 * environment can change that. This binds every server that names no host to
 * 127.0.0.1 instead, so the benchmark never opens a port beyond loopback.
 */
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
  const first = args[0];
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // listen(port), listen(port, cb), listen(port, undefined, cb), listen(port, host?, backlog?, cb?)
    if (typeof args[1] !== 'string') args.splice(1, args[1] === undefined ? 1 : 0, '127.0.0.1');
  } else if (typeof first === 'object' && first !== null && !('path' in first) && (first as { host?: string }).host === undefined) {
    args[0] = { ...(first as object), host: '127.0.0.1' };
  }
  return (listen as (...a: unknown[]) => net.Server).apply(this, args);
} as typeof net.Server.prototype.listen;
