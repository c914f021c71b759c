// Idle-socket timeouts that do not reset a request the server has not read yet. Node checks
// timers before it polls sockets, so after the event loop stalls (a GC pause, a starved CPU)
// the keep-alive and idle timers of sockets whose next request is already waiting in the
// kernel fire first, and Node's default destroys those sockets: the client sees ECONNRESET
// ("socket hang up") for a request it sent in time. With a 'timeout' listener Node leaves the
// decision to us (https://nodejs.org/api/http.html#event-timeout): we look again after the
// poll phase (setImmediate) and close the socket only if it still received nothing.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export function closeIdleAfterPoll(server: Server): void {
  server.on('timeout', (socket: Socket) => {
    const seen = socket.bytesRead;
    setImmediate(() => {
      if (!socket.destroyed && socket.bytesRead === seen) socket.destroy();
    });
  });
}
