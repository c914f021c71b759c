// The ACL model: canned ACLs, x-amz-grant-* headers and AccessControlPolicy XML, in and out.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html
import { S3Error } from './errors.ts';
import { child, childText, children, parseXml, type XmlNode } from './xml.ts';
import type { Acl, Grant, Grantee, Permission } from '../metadata/types.ts';

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
const GROUPS = new Set([ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY]);
const PERMISSIONS: readonly Permission[] = ['FULL_CONTROL', 'READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'];

export interface Owner {
  id: string;
  display_name: string;
}

const CANNED = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'aws-exec-read',
  'log-delivery-write',
] as const;
export type CannedAcl = (typeof CANNED)[number];

export function isCannedAcl(s: string): s is CannedAcl {
  return (CANNED as readonly string[]).includes(s);
}

/** A canned ACL for a resource owned by `owner`; bucketOwner matters for bucket-owner-*. */
export function cannedAcl(name: CannedAcl, owner: Owner, bucketOwner?: Owner): Acl {
  const full: Grant = {
    grantee: { type: 'CanonicalUser', id: owner.id, display_name: owner.display_name },
    permission: 'FULL_CONTROL',
  };
  const group = (uri: string, permission: Permission): Grant => ({ grantee: { type: 'Group', uri }, permission });
  const grants: Grant[] = [full];
  switch (name) {
    case 'private':
    case 'aws-exec-read':
      break;
    case 'public-read':
      grants.push(group(ALL_USERS, 'READ'));
      break;
    case 'public-read-write':
      grants.push(group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE'));
      break;
    case 'authenticated-read':
      grants.push(group(AUTHENTICATED_USERS, 'READ'));
      break;
    case 'log-delivery-write':
      grants.push(group(LOG_DELIVERY, 'WRITE'), group(LOG_DELIVERY, 'READ_ACP'));
      break;
    case 'bucket-owner-read':
    case 'bucket-owner-full-control':
      if (bucketOwner && bucketOwner.id !== owner.id) {
        grants.push({
          grantee: { type: 'CanonicalUser', id: bucketOwner.id, display_name: bucketOwner.display_name },
          permission: name === 'bucket-owner-read' ? 'READ' : 'FULL_CONTROL',
        });
      }
      break;
  }
  return { owner: { ...owner }, grants };
}

const GRANT_HEADERS: ReadonlyArray<[string, Permission]> = [
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
];

/** Parses `id="...", uri="..."` grantee lists from one x-amz-grant-* header. */
function parseGranteeList(value: string, header: string): Grantee[] {
  const out: Grantee[] = [];
  const re = /\s*([A-Za-z]+)\s*=\s*"([^"]*)"\s*(?:,|$)/y;
  let pos = 0;
  while (pos < value.length) {
    re.lastIndex = pos;
    const m = re.exec(value);
    if (!m)
      throw new S3Error('InvalidArgument', `Invalid ${header} header value`, {
        ArgumentName: header,
        ArgumentValue: value,
      });
    pos = re.lastIndex;
    const kind = m[1]!.toLowerCase();
    const v = m[2]!;
    if (kind === 'id') out.push({ type: 'CanonicalUser', id: v });
    else if (kind === 'uri') {
      if (!GROUPS.has(v))
        throw new S3Error('InvalidArgument', 'Invalid group uri', { ArgumentName: header, ArgumentValue: v });
      out.push({ type: 'Group', uri: v });
    } else if (kind === 'emailaddress') {
      throw new S3Error('NotImplemented', 'Grants by email address are not supported by this server.');
    } else {
      throw new S3Error('InvalidArgument', `Invalid ${header} header value`, {
        ArgumentName: header,
        ArgumentValue: value,
      });
    }
  }
  return out;
}

/**
 * The ACL a request asks for through x-amz-acl or x-amz-grant-* headers, or undefined when
 * it names none. Both at once is an error, as on AWS.
 */
export function aclFromHeaders(
  header: (n: string) => string | undefined,
  owner: Owner,
  bucketOwner?: Owner,
): Acl | undefined {
  const canned = header('x-amz-acl');
  const grants = GRANT_HEADERS.filter(([h]) => header(h) !== undefined);
  if (canned !== undefined && grants.length) {
    throw new S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  }
  if (canned !== undefined) {
    if (!isCannedAcl(canned))
      throw new S3Error('InvalidArgument', `Invalid canned ACL ${JSON.stringify(canned)}`, {
        ArgumentName: 'x-amz-acl',
        ArgumentValue: canned,
      });
    return cannedAcl(canned, owner, bucketOwner);
  }
  if (!grants.length) return undefined;
  const acl: Acl = { owner: { ...owner }, grants: [] };
  for (const [h, permission] of grants) {
    for (const grantee of parseGranteeList(header(h)!, h)) acl.grants.push({ grantee, permission });
  }
  return acl;
}

/** Parses an AccessControlPolicy document. */
export function aclFromXml(body: Buffer, owner: Owner): Acl {
  const root = parseXml(body, 'MalformedACLError');
  if (root.name !== 'AccessControlPolicy') throw new S3Error('MalformedACLError');
  const ownerEl = child(root, 'Owner');
  const ownerId = ownerEl ? childText(ownerEl, 'ID') : undefined;
  // AWS rejects a policy that names another owner: the owner cannot be changed this way.
  if (ownerId !== undefined && ownerId.trim() !== owner.id) {
    throw new S3Error('AccessDenied', 'The owner in the ACL does not match the resource owner.');
  }
  const list = child(root, 'AccessControlList');
  const grants: Grant[] = [];
  for (const g of list ? children(list, 'Grant') : []) {
    const grantee = child(g, 'Grantee');
    const permission = childText(g, 'Permission')?.trim() as Permission | undefined;
    if (!grantee || !permission || !PERMISSIONS.includes(permission)) throw new S3Error('MalformedACLError');
    const type = Object.entries(grantee.attributes).find(([k]) => k === 'xsi:type' || k.endsWith(':type'))?.[1];
    const id = childText(grantee, 'ID')?.trim();
    const uri = childText(grantee, 'URI')?.trim();
    if ((type === 'CanonicalUser' || (!type && id)) && id) {
      const display = childText(grantee, 'DisplayName');
      grants.push({
        grantee: { type: 'CanonicalUser', id, ...(display ? { display_name: display } : {}) },
        permission,
      });
    } else if ((type === 'Group' || (!type && uri)) && uri) {
      if (!GROUPS.has(uri))
        throw new S3Error('InvalidArgument', 'Invalid group uri', { ArgumentName: 'uri', ArgumentValue: uri });
      grants.push({ grantee: { type: 'Group', uri }, permission });
    } else if (type === 'AmazonCustomerByEmail') {
      throw new S3Error('NotImplemented', 'Grants by email address are not supported by this server.');
    } else {
      throw new S3Error('MalformedACLError');
    }
  }
  return { owner: { ...owner }, grants };
}

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

export function aclToXml(acl: Acl): XmlNode {
  return {
    Owner: { ID: acl.owner.id, DisplayName: acl.owner.display_name },
    AccessControlList: {
      Grant: acl.grants.map((g) => ({
        Grantee:
          g.grantee.type === 'CanonicalUser'
            ? {
                '@': { 'xmlns:xsi': XSI, 'xsi:type': 'CanonicalUser' },
                ID: g.grantee.id,
                DisplayName: g.grantee.display_name ?? null,
              }
            : { '@': { 'xmlns:xsi': XSI, 'xsi:type': 'Group' }, URI: g.grantee.uri },
        Permission: g.permission,
      })),
    },
  };
}
