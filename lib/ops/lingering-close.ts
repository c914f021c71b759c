// Closing a connection whose request body is still arriving. Closing the socket outright with
// unread bytes makes the kernel send a reset, and a reset can reach the client before it has
// read our answer: it sees ECONNRESET instead of, say, 403 AccessDenied. RFC 9112 §9.6 says
// to close in stages: send the answer and a FIN, keep reading (and discarding) until the
// client closes too or a short time passes, then close. Node's http server does not (it calls
// socket.destroySoon() after a `Connection: close` response: lib/_http_server.js resOnFinish),
// so the socket of such a response gets a destroySoon that lingers.
import type { Socket } from 'node:net';

/** How long a closing connection keeps reading what the client still sends. */
export const LINGER_MS = 2_000;

export function lingerWhenClosed(socket: Socket, ms = LINGER_MS): void {
  socket.destroySoon = function lingeringDestroySoon(this: Socket): void {
    this.end();
    // The server's parser stops here: what still arrives belongs to the refused request.
    this.removeAllListeners('data');
    this.on('data', () => {});
    const done = (): void => {
      clearTimeout(timer);
      this.destroy();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    this.once('end', done);
    this.once('error', done);
    this.resume();
  };
}
