// The metadata commands the store-level benchmarks (bench-outbox-cpu, bench-events-cpu)
// submit: a bucket and 1 KiB inline object PUTs, with or without an event stamp.
const at = '2026-01-01T00:00:00.000Z';
const owner = 'a1b2c3d4'.repeat(8);
const acl = { owner: { id: owner, display_name: 'owner' }, grants: [] };
const stamp = { requestId: 'A1B2C3D40000001A', principal: owner, sourceIp: '127.0.0.1', region: 'us-east-1', at };

export const createBucket = (name: string) => ({
  type: 'bucket.create',
  bucket: { name, region: 'us-east-1', ownerId: owner, ownerDisplay: 'owner', acl, createdAt: at },
});

export const putObject = (bucket: string, key: string, withEvent: boolean) => ({
  type: 'object.put',
  object: {
    bucket,
    key,
    fileId: '',
    inline: new Uint8Array(1024),
    size: 1024,
    etag: '"0123456789abcdef0123456789abcdef"',
    storageClass: 'STANDARD',
    acl,
    userMetadata: {},
    lastModified: at,
    checksum: null,
    partsCount: null,
    ownerId: owner,
    ownerDisplay: 'owner',
    contentType: 'application/octet-stream',
    contentEncoding: null,
    contentLanguage: null,
    contentDisposition: null,
    cacheControl: null,
    expires: null,
  },
  at,
  ...(withEvent ? { event: stamp } : {}),
});
