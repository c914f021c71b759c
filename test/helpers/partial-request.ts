// A request that announces a large body, sends only its first bytes and waits: tells whether
// a server answers (and refuses) before reading a body, as the cluster port must for senders
// without the secret.
import http from 'node:http';

/** The status the server answers within `waitMs` while only `sent` of `declared` body bytes
 *  have arrived, or undefined if it is still waiting for the body. */
export function answerBeforeBody(
  addr: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  declared: number,
  sent: number,
  waitMs = 3000,
): Promise<number | undefined> {
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const req = http.request({ host, port, method, path, headers: { ...headers, 'content-length': String(declared) } });
    const timer = setTimeout(() => {
      req.destroy();
      resolve(undefined);
    }, waitMs);
    req.on('response', (res) => {
      clearTimeout(timer);
      res.resume();
      resolve(res.statusCode);
      req.destroy();
    });
    req.on('error', () => {});
    req.write(Buffer.alloc(sent, 7));
  });
}
