// GetObjectAttributes: what x-amz-object-attributes asks for, without the body.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { ObjectEndpoint as O } from './endpoint.ts';
import type { Grants } from './access.ts';
import { sendDocument } from './respond.ts';
import { versionHeader } from './versioning.ts';
import type { XmlNode } from './xml.ts';

const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
type Attribute = (typeof ATTRIBUTES)[number];

function intHeader(ctx: Ctx, name: string, fallback: number): number {
  const raw = ctx.header(name);
  if (raw === undefined) return fallback;
  if (!/^\d{1,5}$/.test(raw.trim()))
    throw new S3Error('InvalidArgument', `Invalid value for ${name}`, { ArgumentName: name, ArgumentValue: raw });
  return Number(raw.trim());
}

export function getObjectAttributes(ctx: Ctx, _e: O, { bucket, object: o }: Grants['object']): void {
  const raw = ctx.header('x-amz-object-attributes');
  if (raw === undefined || raw.trim() === '')
    throw new S3Error(
      'InvalidRequest',
      'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty',
    );
  const wanted = new Set<Attribute>();
  for (const a of raw.split(',').map((s) => s.trim())) {
    if (!(ATTRIBUTES as readonly string[]).includes(a))
      throw new S3Error('InvalidArgument', 'Invalid attribute name specified.', {
        ArgumentName: 'x-amz-object-attributes',
        ArgumentValue: a,
      });
    wanted.add(a as Attribute);
  }
  const doc: XmlNode = {};
  // The ETag here is bare, without the quotes of the ETag header (as the API reference shows).
  if (wanted.has('ETag')) doc.ETag = o.etag.replace(/^"|"$/g, '');
  if (wanted.has('Checksum') && o.checksum)
    doc.Checksum = { [`Checksum${o.checksum.algorithm}`]: o.checksum.value, ChecksumType: o.checksum.type };
  if (wanted.has('ObjectParts') && o.partsCount !== null) {
    const max = Math.min(intHeader(ctx, 'x-amz-max-parts', 1000), 1000);
    const marker = intHeader(ctx, 'x-amz-part-number-marker', 0);
    const sizes = o.partSizes ?? [];
    const page = sizes.slice(marker, marker + max).map((size, i) => ({ PartNumber: marker + i + 1, Size: size }));
    const truncated = marker + page.length < sizes.length;
    doc.ObjectParts = {
      // TotalPartsCount in the API, PartsCount on the wire (the service model's locationName).
      PartsCount: o.partsCount,
      PartNumberMarker: marker,
      NextPartNumberMarker: page.length ? marker + page.length : marker,
      MaxParts: max,
      IsTruncated: truncated,
      Part: page,
    };
  }
  if (wanted.has('StorageClass')) doc.StorageClass = o.storageClass;
  if (wanted.has('ObjectSize')) doc.ObjectSize = o.size;
  sendDocument(ctx.res, 'GetObjectAttributesResponse', doc, {
    'Last-Modified': new Date(o.lastModified).toUTCString(),
    ...versionHeader(bucket, o),
  });
}
