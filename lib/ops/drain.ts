// Stopping a node:http server gracefully: stop accepting, let requests in flight finish for a
// bounded time, then cut what is left. server.close() alone waits for keep-alive sockets to
// time out (it closes only the connections idle at that moment), so every connection is
// closed as soon as its response ends, and responses not yet started say `Connection: close`.
import type { Server, ServerResponse } from 'node:http';

export interface Drain {
  /** Call once per request, before the response starts. */
  track(res: ServerResponse): void;
  /** Resolves when every connection is closed, at the latest `graceMs` after the call. */
  stop(graceMs: number): Promise<void>;
}

export function createDrain(server: Server): Drain {
  let draining = false;
  const inFlight = new Set<ServerResponse>();
  let allClosed: (() => void) | undefined;
  return {
    track(res) {
      inFlight.add(res);
      if (draining) res.setHeader('Connection', 'close');
      res.once('close', () => {
        inFlight.delete(res);
        if (!draining) return;
        // The socket becomes idle only after this event; close it on the next turn.
        setImmediate(() => server.closeIdleConnections());
        if (inFlight.size === 0) allClosed?.();
      });
    },
    async stop(graceMs) {
      draining = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
      const wasListening = server.listening; // false as soon as close() is called
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      if (wasListening) await closed;
      clearTimeout(timer);
      // A cut response emits 'close' (which logs its request) once its handler has unwound;
      // give that a moment, bounded, so the log shows what was cut.
      if (inFlight.size) {
        let timeout: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          allClosed = resolve;
          timeout = setTimeout(resolve, 1000);
        });
        clearTimeout(timeout);
      }
    },
  };
}
