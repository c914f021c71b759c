// HTTP webhook target: one POST per event, in order, confirmed by any 2xx. The body is signed
// so a receiver can check it came from this server: X-BleepStore-Signature is
// "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body), as Stripe and GitHub sign theirs.
import { createHmac } from 'node:crypto';
import { http, https } from '../../node-http.ts';
import type { Agent } from 'node:http';
import type { EventFormat } from '../format.ts';
import type { EventTarget, TargetMessage } from './target.ts';

export interface WebhookTargetOptions {
  name: string;
  format: EventFormat;
  url: string;
  secret: string;
  timeoutMs: number;
}

export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class WebhookTarget implements EventTarget {
  readonly name: string;
  readonly format: EventFormat;
  readonly #o: WebhookTargetOptions;
  readonly #agent: Agent;

  constructor(o: WebhookTargetOptions) {
    this.name = o.name;
    this.format = o.format;
    this.#o = o;
    this.#agent = new (o.url.startsWith('https:') ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 1 });
  }

  #post(m: TargetMessage): Promise<void> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(m.body)),
      'x-bleepstore-event-id': m.id,
      'x-bleepstore-event-type': m.type,
      'x-bleepstore-timestamp': timestamp,
    };
    if (this.#o.secret) headers['x-bleepstore-signature'] = webhookSignature(this.#o.secret, timestamp, m.body);
    const mod = this.#o.url.startsWith('https:') ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        this.#o.url,
        { method: 'POST', headers, agent: this.#agent, timeout: this.#o.timeoutMs },
        (res) => {
          res.resume();
          res.on('end', () => {
            const s = res.statusCode ?? 0;
            if (s >= 200 && s < 300) resolve();
            else reject(new Error(`webhook target "${this.name}" answered ${s}`));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`webhook target "${this.name}" timed out after ${this.#o.timeoutMs} ms`)),
      );
      req.on('error', reject);
      req.end(m.body);
    });
  }

  async publish(messages: readonly TargetMessage[]): Promise<void> {
    for (const m of messages) await this.#post(m);
  }

  async close(): Promise<void> {
    this.#agent.destroy();
  }
}
