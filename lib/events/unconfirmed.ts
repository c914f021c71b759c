// Sync mode's timeout: the change IS committed (its blob is referenced, its event is in the
// outbox), only the event targets' confirmation did not come in time. Code that cleans up
// after a failed commit must not treat this as one (lib/s3/object-write.ts).
import { S3Error } from '../s3/errors.ts';

export class EventUnconfirmedError extends S3Error {
  /** What the committed command returned (files to collect, ...). */
  readonly result: unknown;
  constructor(timeoutMs: number, result: unknown) {
    super(
      'ServiceUnavailable',
      `The change was committed, but the event targets did not confirm its event within ${timeoutMs} ms; it will be delivered when they return.`,
    );
    this.result = result;
  }
}

/**
 * Runs a handler's post-commit work (collecting replaced files) on the command's result, also
 * when sync mode rejects a committed change, then passes the outcome on.
 */
export async function afterCommit<T>(submitted: Promise<T>, then: (result: T) => void): Promise<T> {
  let result: T;
  try {
    result = await submitted;
  } catch (err) {
    if (err instanceof EventUnconfirmedError) then(err.result as T);
    throw err;
  }
  then(result);
  return result;
}
