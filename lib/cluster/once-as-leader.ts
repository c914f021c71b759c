// Work only the leader may commit (seeding a key, cleaning the outbox up): tried whenever this
// node leads, until one attempt succeeds or `done()` says it is no longer needed.
export function onceAsLeader(
  isLeader: () => boolean,
  attempt: () => Promise<unknown>,
  o: { everyMs: number; done?: () => boolean },
): NodeJS.Timeout {
  let busy = false;
  const t = setInterval(() => {
    if (busy) return;
    if (o.done?.()) return clearInterval(t);
    if (!isLeader()) return;
    busy = true;
    attempt().then(
      () => clearInterval(t),
      () => (busy = false),
    );
  }, o.everyMs);
  t.unref();
  return t;
}
