// Starts event delivery when targets are configured: one dispatcher draining the outbox, woken
// after every commit that may have written outbox rows.
import { hostname } from 'node:os';
import type { Config } from '../config.ts';
import type { MetadataStore } from '../metadata/sqlite.ts';
import type { Logger } from '../ops/log.ts';
import { onceAsLeader } from '../cluster/once-as-leader.ts';
import { ThreadDispatcher } from './dispatch-thread.ts';
import { Dispatcher, type DispatcherOptions, type EventDispatcher } from './dispatcher.ts';
import { createTarget } from './targets/create.ts';
import { EventUnconfirmedError } from './unconfirmed.ts';

/**
 * Sync mode: the response waits until every target confirmed the events committed so far.
 * On timeout the change stays committed and its event stays in the outbox (it is delivered
 * later); the caller gets 503 ServiceUnavailable and may retry.
 */
async function syncGate(dispatcher: EventDispatcher, seq: number, timeoutMs: number, result: unknown): Promise<void> {
  if (!(await dispatcher.waitThrough(seq, timeoutMs))) throw new EventUnconfirmedError(timeoutMs, result);
}

export interface RunningEvents {
  dispatcher: EventDispatcher;
  stop(): Promise<void>;
}

/** `isLeader` (cluster mode): only the leader publishes and cleans the outbox up. */
export function startEvents(
  config: Config,
  metadata: MetadataStore,
  log: Logger,
  isLeader?: () => boolean,
): RunningEvents | undefined {
  const ev = config.events;
  if (!ev.targets.length) return undefined;
  const failing = new Set<string>();
  const options: DispatcherOptions = {
    source: ev.source || hostname(),
    batchSize: ev.batch_size,
    maxPending: ev.max_pending,
    minBackoffMs: 100,
    maxBackoffMs: 30_000,
    pollMs: 1000,
    // Sync-mode writers wait for their events: no lingering for more.
    lingerMs: ev.consistency === 'sync' ? 0 : ev.linger_ms,
    deleteDelayMs: ev.consistency === 'sync' ? 0 : 100,
    ...(isLeader ? { active: isLeader } : {}),
    onPublished(target, n) {
      if (failing.delete(target)) log.info('event target reachable again', { target });
      log.debug('events published', { target, count: n });
    },
    onFailed(target, err) {
      // One warning per outage, not one per retry.
      if (!failing.has(target))
        log.warn('event target unreachable; events wait in the outbox', { target, error: err.message });
      failing.add(target);
    },
    onDropped(target, n) {
      log.error('event outbox over its cap: oldest events dropped', {
        target,
        dropped: n,
        max_pending: ev.max_pending,
      });
    },
  };
  // With `events.dispatcher: worker`, on a worker thread with its own read-only connection,
  // so reading, rendering, publishing and acknowledgements cost the event loop that serves S3
  // nothing; an in-memory database cannot be shared with another connection, so there (and
  // by default) it stays in this thread.
  const file = ev.dispatcher === 'worker' ? metadata.file : undefined;
  const dispatcher: EventDispatcher = file
    ? new ThreadDispatcher(file, metadata.outbox(), ev.targets, options, log)
    : new Dispatcher(metadata.outbox(), ev.targets.map(createTarget), options);
  const forget = (): Promise<void> =>
    metadata.submit({ type: 'outbox.forget', keepTargets: ev.targets.map((t) => t.name) }).then((n) => {
      if (n) log.warn('event outbox rows of targets no longer configured dropped', { dropped: n });
    });
  let forgetTimer: NodeJS.Timeout | undefined;
  if (!isLeader) void forget().catch((err: unknown) => log.error('event outbox clean-up failed', { error: err }));
  // Only the leader can commit: tried whenever this node leads, until one clean-up lands.
  else forgetTimer = onceAsLeader(isLeader, forget, { everyMs: 250 });
  dispatcher.start();
  if (ev.consistency === 'sync')
    metadata.setEventGate((seq, result) => syncGate(dispatcher, seq, ev.sync_timeout_ms, result));
  const unsubscribe = metadata.subscribe(() => dispatcher.kick());
  log.info('events enabled', {
    targets: ev.targets.map((t) => `${t.name} (${t.type})`).join(', '),
    consistency: ev.consistency,
  });
  return {
    dispatcher,
    async stop() {
      clearInterval(forgetTimer);
      metadata.setEventGate(undefined);
      unsubscribe();
      await dispatcher.stop();
    },
  };
}
