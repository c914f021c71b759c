// PostObject: browser-based uploads. A multipart/form-data body carries the key, the
// policy and its signature, optional object settings, and the file last; the file part is
// streamed through the same ingest pipeline as a PUT body into a staged blob.
// https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/HTTPPOSTForms.html
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { BucketEndpoint as B } from './endpoint.ts';
import { loadBucket, ownerOf } from './access.ts';
import { setterActions } from './policy-access.ts';
import { ANONYMOUS_OWNER } from './put.ts';
import { commitObject } from './object-write.ts';
import { lockFromHeaders } from './object-lock.ts';
import { newObjectAcl } from './ownership.ts';
import { storageClassFrom, userMetadataFrom } from './object-meta.ts';
import { MAX_PUT_SIZE } from './body.ts';
import { sendDocument, sendEmpty } from './respond.ts';
import { FormDataReader, formBoundary } from './form-data.ts';
import { checkPolicy, policySigner, type FormFields } from './post-policy.ts';
import { ingest } from '../body/ingest.ts';
import { sigv2Sign } from '../auth/sigv2/sign.ts';
import type { ObjectRow } from '../metadata/types.ts';
import { tagsFromFormField } from './tagging.ts';

// "The form data and boundaries (excluding the contents of the file) cannot exceed 20KB."
const MAX_FORM_FIELDS = 20 * 1024;
const CONTENT_FIELDS = [
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'expires',
] as const;

function fieldsTooLarge(): S3Error {
  return new S3Error(
    'MaxPostPreDataLengthExceeded',
    'Your POST request fields preceeding the upload file was too large.',
  );
}

/** AWS's form variable, spelled out of parts so it never reads as a template placeholder. */
export const FILENAME_VARIABLE = '$' + '{filename}';

/** FILENAME_VARIABLE in any field becomes the file's name without any path (HTTPPOSTForms.html). */
function expandFilename(fields: FormFields, filename: string): void {
  const base = filename.slice(Math.max(filename.lastIndexOf('/'), filename.lastIndexOf('\\')) + 1);
  for (const [k, v] of fields)
    if (k !== 'policy' && v.includes(FILENAME_VARIABLE)) fields.set(k, v.replaceAll(FILENAME_VARIABLE, base));
}

/** The field as a header lookup, so PUT's metadata helpers read form fields unchanged. */
function asHeaders(fields: FormFields): Record<string, string> {
  return Object.fromEntries(fields);
}

function redirectTarget(fields: FormFields): URL | undefined {
  const raw = fields.get('success_action_redirect') ?? fields.get('redirect');
  if (!raw) return undefined;
  try {
    const url = new URL(raw);
    // "If Amazon S3 cannot interpret the URL, it ignores the field."
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

export async function postObject(ctx: Ctx, e: B): Promise<void> {
  const boundary = formBoundary(ctx.header('content-type'));
  if (!boundary) {
    throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
      Condition: 'Bucket POST must be of the enclosure-type multipart/form-data',
    });
  }
  loadBucket(ctx, e.bucket, 'exists');
  const form = new FormDataReader(ctx.req, boundary, MAX_FORM_FIELDS, fieldsTooLarge);
  await form.start();
  const fields: FormFields = new Map();
  let file: { filename?: string } | undefined;
  for (let part = await form.next(); part; part = await form.next()) {
    const name = part.name.toLowerCase();
    if (name === 'file') {
      file = part;
      break;
    }
    const value = await form.value();
    // Repeated fields are matched as one comma-separated value (HTTPPOSTForms.html, "Conditions").
    fields.set(name, fields.has(name) ? `${fields.get(name)},${value}` : value);
  }
  if (!file)
    throw new S3Error('InvalidArgument', 'POST requires exactly one file upload per request.', {
      ArgumentName: 'file',
      ArgumentValue: '0',
    });
  expandFilename(fields, file.filename ?? '');

  const key = fields.get('key');
  if (key === undefined || key === '') {
    throw new S3Error(
      'InvalidArgument',
      "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
      { ArgumentName: 'key', ArgumentValue: '' },
    );
  }
  if (Buffer.byteLength(key) > 1024)
    throw new S3Error('KeyTooLongError', undefined, { MaxSizeAllowed: '1024', Size: String(Buffer.byteLength(key)) });
  if (key.includes('\0'))
    throw new S3Error('InvalidArgument', 'Object key must not contain the NUL character.', { ArgumentName: 'key' });

  // Without a policy the upload is anonymous and succeeds only where AllUsers may write.
  const { config } = ctx.svc;
  let principal = null;
  let range: { min: number; max: number } | undefined;
  const policy = fields.get('policy');
  if (policy !== undefined && policy !== '') {
    const lookup = (id: string) => {
      const c = ctx.svc.metadata.getCredential(id);
      return c?.active ? c : undefined;
    };
    principal = policySigner(fields, lookup, config.server.region, config.auth.sigv2 ? sigv2Sign : undefined);
    range = checkPolicy(policy, fields, e.bucket, Date.now());
  }
  const postCtx: Ctx = { ...ctx, principal };
  // The form's acl, tagging and lock fields stand for the headers of the same names.
  const field = (n: string) => fields.get(n === 'x-amz-acl' ? 'acl' : n === 'x-amz-tagging' ? 'tagging' : n);
  const aclField = field('x-amz-acl');
  const bucket = loadBucket(
    postCtx,
    e.bucket,
    'WRITE',
    ['s3:PutObject', ...setterActions(field)],
    key,
    aclField === undefined ? undefined : new Map([['s3:x-amz-acl', aclField]]),
  );

  const headers = asHeaders(fields);
  const header = (n: string) => (n === 'x-amz-acl' ? headers.acl : headers[n]);
  const { owner, acl } = newObjectAcl(bucket, principal ? ownerOf(principal) : ANONYMOUS_OWNER, header);
  const storageClass = storageClassFrom(header);
  const userMetadata = userMetadataFrom(headers);
  const taggingField = fields.get('tagging');
  const tags = taggingField === undefined ? undefined : tagsFromFormField(taggingField);
  const ingestHeaders: Record<string, string> = {};
  for (const [k, v] of fields) {
    if (k === 'content-md5' || k.startsWith('x-amz-checksum-')) ingestHeaders[k] = v;
  }
  if (fields.has('x-amz-checksum-algorithm'))
    ingestHeaders['x-amz-sdk-checksum-algorithm'] = fields.get('x-amz-checksum-algorithm')!;
  delete ingestHeaders['x-amz-checksum-algorithm'];

  const maxSize = Math.min(MAX_PUT_SIZE, range?.max ?? MAX_PUT_SIZE);
  const sink = await ctx.svc.storage.stage();
  const body = await ingest(form.stream(), { sink, payload: { kind: 'unsigned' }, headers: ingestHeaders, maxSize });
  ctx.bytesIn = form.bytesRead;
  const fileId = await sink.commit();
  let lock: ReturnType<typeof lockFromHeaders>;
  try {
    lock = lockFromHeaders((name) => fields.get(name), ctx.svc.metadata.getBucket(e.bucket));
    if (range && body.size < range.min) {
      throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', {
        ProposedSize: String(body.size),
        MinSizeAllowed: String(range.min),
      });
    }
    // Fields after the file are ignored; the closing boundary is read so the connection stays usable.
    await form.drain(MAX_FORM_FIELDS);
  } catch (err) {
    await ctx.svc.storage.remove(fileId);
    throw err;
  }
  ctx.bytesIn = form.bytesRead;

  const row: ObjectRow = {
    bucket: e.bucket,
    key,
    fileId,
    size: body.size,
    etag: `"${body.md5Hex}"`,
    contentType: fields.get('content-type') || 'application/octet-stream',
    ...(Object.fromEntries(
      CONTENT_FIELDS.map((f) => [f.replace(/-(\w)/g, (_, c: string) => c.toUpperCase()), fields.get(f) ?? null]),
    ) as Pick<ObjectRow, 'cacheControl' | 'contentDisposition' | 'contentEncoding' | 'contentLanguage' | 'expires'>),
    storageClass,
    acl,
    userMetadata,
    lastModified: new Date().toISOString(),
    ...lock,
    checksum: body.checksum
      ? { algorithm: body.checksum.algorithm, value: body.checksum.base64, type: 'FULL_OBJECT' }
      : null,
    partsCount: null,
    inline: null,
    ownerId: owner.id,
    ownerDisplay: owner.display_name,
    ...(tags?.length ? { tags } : {}),
  };
  await commitObject(ctx, row, undefined);

  const host = ctx.header('host') ?? 'localhost';
  const location = `http://${host}/${e.bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`;
  const redirect = redirectTarget(fields);
  if (redirect) {
    redirect.searchParams.append('bucket', e.bucket);
    redirect.searchParams.append('key', key);
    redirect.searchParams.append('etag', row.etag);
    sendEmpty(ctx.res, 303, { Location: redirect.toString(), ETag: row.etag });
    return;
  }
  const status = fields.get('success_action_status');
  if (status === '201') {
    sendDocument(
      ctx.res,
      'PostResponse',
      { Location: location, Bucket: e.bucket, Key: key, ETag: row.etag },
      { ETag: row.etag, Location: location },
      201,
    );
    return;
  }
  sendEmpty(ctx.res, status === '200' ? 200 : 204, { ETag: row.etag, Location: location });
}
