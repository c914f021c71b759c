// The `queue` part of GET /health (shared/specs/event-queues.md, "Monitoring"): whether every
// event target accepts events, and how many wait in the outbox. A target that is down makes
// /health say "degraded" but not 503: S3 writes still succeed (write-through).
import type { TargetStatus } from './dispatcher.ts';

export interface QueueHealth {
  connected: boolean;
  pending_tasks: number;
  targets: Array<{
    target: string;
    connected: boolean;
    pending: number;
    oldest_age_seconds: number;
    dropped: number;
    last_error: string | null;
    /** RabbitMQ: messages in the dead-letter queue (consumers rejected them). */
    dead_letters?: number;
  }>;
}

export function queueHealth(status: readonly TargetStatus[], now = Date.now()): QueueHealth {
  return {
    connected: status.every((t) => t.connected),
    pending_tasks: status.reduce((n, t) => n + t.pending, 0),
    targets: status.map((t) => ({
      target: t.target,
      connected: t.connected,
      pending: t.pending,
      oldest_age_seconds: t.oldest_time ? Math.max(0, (now - Date.parse(t.oldest_time)) / 1000) : 0,
      dropped: t.dropped,
      last_error: t.last_error,
      ...(t.dead_letters === undefined ? {} : { dead_letters: t.dead_letters }),
    })),
  };
}
