// Assertions for S3 errors.
import assert from 'node:assert/strict';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { S3Error, type S3ErrorCode } from '../../lib/s3/errors.ts';

function check(err: unknown, code: S3ErrorCode, message?: RegExp): true {
  assert.ok(err instanceof S3Error, `expected an S3Error ${code}, got ${String(err)}`);
  assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
  if (message) assert.match(err.message, message);
  return true;
}

/** Asserts that `fn` throws S3Error `code` (and returns it for more checks). */
export function throwsS3(fn: () => unknown, code: S3ErrorCode, message?: RegExp): S3Error {
  try {
    fn();
  } catch (err) {
    check(err, code, message);
    return err as S3Error;
  }
  assert.fail(`expected S3Error ${code}, but nothing was thrown`);
}

export async function rejectsS3(p: Promise<unknown>, code: S3ErrorCode, message?: RegExp): Promise<S3Error> {
  try {
    await p;
  } catch (err) {
    check(err, code, message);
    return err as S3Error;
  }
  assert.fail(`expected S3Error ${code}, but the promise resolved`);
}

/** Awaits an SDK call that must fail with an S3 service error, and returns that error. */
export async function sdkError(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (err) {
    if (err instanceof S3ServiceException) return err;
    throw err;
  }
  assert.fail('expected an S3 error');
}
