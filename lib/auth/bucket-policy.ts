// Bucket policies: parse and validate the JSON document PutBucketPolicy stores, evaluate a request
// against it, and tell whether it is public. Pure: no I/O.
// Elements: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
// Evaluation: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
import { isIPv4, isIPv6 } from 'node:net';

/** A policy S3 would refuse; the caller answers 400 MalformedPolicy with this message. */
export class PolicyError extends Error {
  override name = 'PolicyError';
}

/** The signed caller. */
export interface PolicyPrincipal {
  ownerId: string;
  accessKeyId: string;
}

export interface PolicyRequest {
  /** IAM action name, e.g. 's3:GetObject'. */
  action: string;
  /** 'arn:aws:s3:::bucket' or 'arn:aws:s3:::bucket/key'. */
  resource: string;
  /** null: anonymous (unsigned) request. */
  principal: PolicyPrincipal | null;
  /**
   * Condition keys with their request values, lower-cased key names, e.g. 'aws:sourceip',
   * 'aws:securetransport' ('true'|'false'), 'aws:currenttime' (ISO), 'aws:epochtime', 'aws:useragent',
   * 'aws:referer', 's3:prefix', 's3:delimiter', 's3:max-keys', 's3:versionid', 's3:x-amz-acl',
   * 's3:signatureversion', 's3:authtype'. A key absent from the map is absent from the request.
   */
  context: ReadonlyMap<string, string>;
}

/** undefined: no statement applies (fall back to ACLs). */
export type PolicyDecision = 'allow' | 'deny' | undefined;

export const POLICY_MAX_BYTES = 20 * 1024;

export const SUPPORTED_CONDITION_KEYS: readonly string[] = [
  'aws:sourceip',
  'aws:securetransport',
  'aws:currenttime',
  'aws:epochtime',
  'aws:useragent',
  'aws:referer',
  's3:prefix',
  's3:delimiter',
  's3:max-keys',
  's3:versionid',
  's3:x-amz-acl',
  's3:signatureversion',
  's3:authtype',
];

/** A wildcard pattern ('*', '?') split into characters. */
type Glob = readonly string[];

interface Principals {
  any: boolean;
  owners: Set<string>;
  /** `${ownerId}:${accessKeyId}`; neither part may contain ':'. */
  keys: Set<string>;
}

interface Condition {
  key: string;
  /** The result when the request lacks the key. */
  absent: boolean;
  negated: boolean;
  /** Whether the request value matches any of the policy's values. */
  matches: (value: string) => boolean;
  /** IpAddress on aws:SourceIp with no CIDR that matches every address (see isPublicPolicy). */
  fixedSourceIp: boolean;
}

interface Statement {
  allow: boolean;
  principals: Principals;
  notPrincipal: boolean;
  actions: Glob[];
  notAction: boolean;
  resources: Glob[];
  notResource: boolean;
  conditions: Condition[];
}

export interface BucketPolicy {
  readonly statements: readonly Statement[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string or a non-empty array of strings. */
function strings(v: Json | undefined): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v as string[];
  return undefined;
}

export function parseBucketPolicy(text: string, bucket: string): BucketPolicy {
  budget = MATCH_BUDGET;
  // "Bucket policies are limited to 20 KB in size" (S3 User Guide, "Adding a bucket policy").
  if (Buffer.byteLength(text, 'utf8') > POLICY_MAX_BYTES) {
    throw new PolicyError('Policy exceeds the maximum allowed document size.');
  }
  if (!/^[ \t\r\n]*\{/.test(text)) throw new PolicyError("Policies must be valid JSON and the first byte must be '{'");
  let doc: JsonObject;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new PolicyError('This policy contains invalid Json');
  }
  for (const k of Object.keys(doc)) if (k !== 'Version' && k !== 'Id' && k !== 'Statement') unknownField(k);
  const { Version: version, Id: id, Statement: statement } = doc;
  if (version !== undefined && version !== '2012-10-17' && version !== '2008-10-17') {
    throw new PolicyError('The policy must contain a valid version string');
  }
  if (id !== undefined && typeof id !== 'string') throw new PolicyError('Policy Id must be a string');
  if (statement === undefined) throw new PolicyError('Missing required field Statement');
  const list = Array.isArray(statement) ? statement : [statement];
  if (list.length === 0) throw new PolicyError('Could not parse the policy: Statement is empty!');
  // Policy variables (${...}) exist only in version 2012-10-17; without it they are literal text
  // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
  const variables = version === '2012-10-17';
  return { statements: list.map((s) => parseStatement(s, bucket, variables)) };
}

function unknownField(name: string): never {
  throw new PolicyError(`Unknown field ${name}`);
}

const STATEMENT_FIELDS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);

/** The element or its Not form: exactly one of them. */
function either(s: JsonObject, name: string): [value: Json, not: boolean] {
  const value = s[name];
  const notValue = s[`Not${name}`];
  if (value !== undefined && notValue !== undefined) {
    throw new PolicyError(`Statement cannot have both ${name} and Not${name}`);
  }
  if (value === undefined && notValue === undefined) throw new PolicyError(`Missing required field ${name}`);
  return value !== undefined ? [value, false] : [notValue!, true];
}

function parseStatement(s: Json, bucket: string, variables: boolean): Statement {
  if (!isObject(s)) throw new PolicyError('Policy statements must be objects');
  for (const k of Object.keys(s)) if (!STATEMENT_FIELDS.has(k)) unknownField(k);
  if (s.Sid !== undefined && typeof s.Sid !== 'string') throw new PolicyError('Statement Sid must be a string');
  if (s.Effect === undefined) throw new PolicyError('Missing required field Effect');
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new PolicyError(`Invalid effect: ${JSON.stringify(s.Effect)}`);

  const [principal, notPrincipal] = either(s, 'Principal');
  const [action, notAction] = either(s, 'Action');
  const [resource, notResource] = either(s, 'Resource');
  const actionList = strings(action);
  if (!actionList?.every(isAction)) throw new PolicyError('Policy has invalid action');
  const resourceList = strings(resource);
  if (!resourceList?.every((r) => isResource(r, bucket))) throw new PolicyError('Policy has invalid resource');
  if (variables && resourceList.some((r) => r.includes('${'))) unsupportedVariable();
  const actions = actionList.map((a) => a.toLowerCase());
  if (!notAction && !notResource) checkActionsApply(actions, resourceList);

  const condition = s.Condition;
  if (condition !== undefined && !isObject(condition)) throw new PolicyError('Condition must be an object');
  return {
    allow: s.Effect === 'Allow',
    principals: parsePrincipals(principal),
    notPrincipal,
    actions: actions.map((a) => [...a]),
    notAction,
    resources: resourceList.map((r) => [...r]),
    notResource,
    conditions: Object.entries(condition ?? {}).flatMap(([op, block]) => parseConditions(op, block, variables)),
  };
}

function unsupportedVariable(): never {
  throw new PolicyError('Policy variables are not supported by BleepStore');
}

// Principal: "*", {"AWS": ...}, {"CanonicalUser": ...}. "You cannot use a wildcard to match part of a
// principal name or ARN" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
const ID = /^[^\s:/*?]+$/;
const ROOT = /^arn:aws:iam::([^\s:/*?]+):root$/;
const USER = /^arn:aws:iam::([^\s:/*?]+):user\/([^\s:/*?]+)$/;

function parsePrincipals(value: Json): Principals {
  const p: Principals = { any: value === '*', owners: new Set(), keys: new Set() };
  if (p.any) return p;
  const invalid = () => new PolicyError('Invalid principal in policy');
  if (!isObject(value) || Object.keys(value).length === 0) throw invalid();
  for (const [type, v] of Object.entries(value)) {
    const ids = strings(v);
    if (!ids) throw invalid();
    for (const id of ids) {
      let m: RegExpExecArray | null;
      if (type === 'AWS' && id === '*') p.any = true;
      else if ((type === 'AWS' || type === 'CanonicalUser') && ID.test(id)) p.owners.add(id);
      else if (type === 'AWS' && (m = ROOT.exec(id))) p.owners.add(m[1]!);
      else if (type === 'AWS' && (m = USER.exec(id))) p.keys.add(`${m[1]}:${m[2]}`);
      else throw invalid();
    }
  }
  return p;
}

function principalMatches(p: Principals, caller: PolicyPrincipal | null): boolean {
  if (p.any) return true;
  if (!caller) return false;
  return p.owners.has(caller.ownerId) || p.keys.has(`${caller.ownerId}:${caller.accessKeyId}`);
}

// Actions, by the resource type they take in "Actions defined by Amazon S3"
// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html). 'other':
// no resource type (ListAllMyBuckets) or one a bucket policy cannot name (access points, jobs, ...).
type Kind = 'bucket' | 'object' | 'other';
const ACTIONS: Record<Kind, string> = {
  object: `AbortMultipartUpload BypassGovernanceRetention DeleteObject DeleteObjectTagging DeleteObjectVersion
    DeleteObjectVersionTagging GetObject GetObjectAcl GetObjectAttributes GetObjectLegalHold GetObjectRetention
    GetObjectTagging GetObjectTorrent GetObjectVersion GetObjectVersionAcl GetObjectVersionAttributes
    GetObjectVersionForReplication GetObjectVersionTagging GetObjectVersionTorrent InitiateReplication
    ListMultipartUploadParts ObjectOwnerOverrideToBucketOwner PutObject PutObjectAcl PutObjectLegalHold
    PutObjectRetention PutObjectTagging PutObjectVersionAcl PutObjectVersionTagging ReplicateDelete ReplicateObject
    ReplicateTags RestoreObject`,
  bucket: `CreateBucket CreateBucketMetadataConfiguration CreateBucketMetadataTableConfiguration DeleteBucket
    DeleteBucketMetadataConfiguration DeleteBucketMetadataTableConfiguration DeleteBucketPolicy DeleteBucketWebsite
    GetAccelerateConfiguration GetAnalyticsConfiguration GetBucketAbac GetBucketAcl GetBucketCORS GetBucketLocation
    GetBucketLogging GetBucketMetadataConfiguration GetBucketMetadataTableConfiguration GetBucketNotification
    GetBucketObjectLockConfiguration GetBucketOwnershipControls GetBucketPolicy GetBucketPolicyStatus
    GetBucketPublicAccessBlock GetBucketRequestPayment GetBucketTagging GetBucketVersioning GetBucketWebsite
    GetEncryptionConfiguration GetIntelligentTieringConfiguration GetInventoryConfiguration GetLifecycleConfiguration
    GetMetricsConfiguration GetReplicationConfiguration ListBucket ListBucketMultipartUploads ListBucketVersions
    ListTagsForResource PauseReplication PutAccelerateConfiguration PutAnalyticsConfiguration PutBucketAbac
    PutBucketAcl PutBucketCORS PutBucketLogging PutBucketNotification PutBucketObjectLockConfiguration
    PutBucketOwnershipControls PutBucketPolicy PutBucketPublicAccessBlock PutBucketRequestPayment PutBucketTagging
    PutBucketVersioning PutBucketWebsite PutEncryptionConfiguration PutIntelligentTieringConfiguration
    PutInventoryConfiguration PutLifecycleConfiguration PutMetricsConfiguration PutReplicationConfiguration
    TagResource UntagResource UpdateBucketMetadataInventoryTableConfiguration
    UpdateBucketMetadataJournalTableConfiguration`,
  other: `AssociateAccessGrantsIdentityCenter CreateAccessGrant CreateAccessGrantsInstance CreateAccessGrantsLocation
    CreateAccessPoint CreateAccessPointForObjectLambda CreateJob CreateMultiRegionAccessPoint CreateStorageLensGroup
    DeleteAccessGrant DeleteAccessGrantsInstance DeleteAccessGrantsInstanceResourcePolicy DeleteAccessGrantsLocation
    DeleteAccessPoint DeleteAccessPointForObjectLambda DeleteAccessPointPolicy DeleteAccessPointPolicyForObjectLambda
    DeleteJobTagging DeleteMultiRegionAccessPoint DeleteStorageLensConfiguration DeleteStorageLensConfigurationTagging
    DeleteStorageLensGroup DescribeJob DescribeMultiRegionAccessPointOperation DissociateAccessGrantsIdentityCenter
    GetAccessGrant GetAccessGrantsInstance GetAccessGrantsInstanceForPrefix GetAccessGrantsInstanceResourcePolicy
    GetAccessGrantsLocation GetAccessPoint GetAccessPointConfigurationForObjectLambda GetAccessPointForObjectLambda
    GetAccessPointPolicy GetAccessPointPolicyForObjectLambda GetAccessPointPolicyStatus
    GetAccessPointPolicyStatusForObjectLambda GetAccountPublicAccessBlock GetDataAccess GetJobTagging
    GetMultiRegionAccessPoint GetMultiRegionAccessPointPolicy GetMultiRegionAccessPointPolicyStatus
    GetMultiRegionAccessPointRoutes GetStorageLensConfiguration GetStorageLensConfigurationTagging
    GetStorageLensDashboard GetStorageLensGroup ListAccessGrants ListAccessGrantsInstances ListAccessGrantsLocations
    ListAccessPoints ListAccessPointsForObjectLambda ListAllMyBuckets ListCallerAccessGrants ListJobs
    ListMultiRegionAccessPoints ListStorageLensConfigurations ListStorageLensGroups
    PutAccessGrantsInstanceResourcePolicy PutAccessPointConfigurationForObjectLambda PutAccessPointPolicy
    PutAccessPointPolicyForObjectLambda PutAccessPointPublicAccessBlock PutAccountPublicAccessBlock PutJobTagging
    PutMultiRegionAccessPointPolicy PutStorageLensConfiguration PutStorageLensConfigurationTagging
    SubmitMultiRegionAccessPointRoutes UpdateAccessGrantsLocation UpdateJobPriority UpdateJobStatus
    UpdateStorageLensGroup`,
};
const ACTION_KINDS = new Map<string, Kind>(
  (Object.keys(ACTIONS) as Kind[]).flatMap((kind) =>
    ACTIONS[kind]
      .trim()
      .split(/\s+/)
      .map((name) => [`s3:${name.toLowerCase()}`, kind] as const),
  ),
);

const hasWildcard = (s: string) => s.includes('*') || s.includes('?');

// IAM action names are case-insensitive; a name without wildcards must exist.
function isAction(a: string): boolean {
  const lower = a.toLowerCase();
  if (lower === '*') return true;
  return /^s3:[a-z0-9*?]+$/.test(lower) && (hasWildcard(lower) || ACTION_KINDS.has(lower));
}

const ARN = 'arn:aws:s3:::';

// A bucket policy names only its own bucket and its objects; the bucket part (before the first '/')
// may be a wildcard that matches it.
function isResource(r: string, bucket: string): boolean {
  if (r === '*') return true;
  if (!r.startsWith(ARN)) return false;
  const path = r.slice(ARN.length);
  const bucketPart = path.split('/', 1)[0]!;
  return bucketPart !== '' && glob([...bucketPart], [...bucket]);
}

function resourceKinds(r: string): Kind[] {
  if (r === '*') return ['bucket', 'object', 'other'];
  const path = r.slice(ARN.length);
  if (path.includes('/')) return ['object'];
  // 'arn:aws:s3:::photos*' also matches 'arn:aws:s3:::photos/key'.
  return path.includes('*') ? ['bucket', 'object'] : ['bucket'];
}

// S3 refuses a statement none of whose actions takes any of its resources, e.g. s3:GetObject with
// only the bucket ARN ("Action does not apply to any resource(s) in statement").
function checkActionsApply(actions: string[], resources: string[]): void {
  const kinds = new Set(resources.flatMap(resourceKinds));
  if (!actions.some((a) => a === '*' || hasWildcard(a) || kinds.has(ACTION_KINDS.get(a)!))) {
    throw new PolicyError('Action does not apply to any resource(s) in statement');
  }
}

/** Steps one evaluation may spend matching wildcards (about 10 ms here): an owner's policy
 *  of many long '*' patterns against long keys or headers could otherwise hold the event loop
 *  for a third of a second per request. Past it the request is denied, never allowed. */
const MATCH_BUDGET = 1_000_000;
let budget = MATCH_BUDGET;
class OverBudget extends Error {}

/**
 * '*' matches any run of characters (none, '/', anything), '?' exactly one. Iterative: on a
 * mismatch it retries from the last '*' only, so the cost is at most pattern length × text length.
 */
function glob(p: Glob, s: Glob): boolean {
  let i = 0;
  let j = 0;
  let star = -1;
  let resume = 0;
  while (j < s.length) {
    if (--budget < 0) throw new OverBudget();
    if (i < p.length && (p[i] === '?' || (p[i] !== '*' && p[i] === s[j]))) {
      i++;
      j++;
    } else if (i < p.length && p[i] === '*') {
      star = i++;
      resume = j;
    } else if (star >= 0) {
      i = star + 1;
      j = ++resume;
    } else {
      return false;
    }
  }
  while (p[i] === '*') i++;
  return i === p.length;
}

// Conditions (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
type Compile = (values: string[], key: string) => (value: string) => boolean;

function invalidValue(key: string, value: string): never {
  throw new PolicyError(`Invalid value for condition key ${key}: ${value}`);
}

const strOp =
  (test: (req: string, pol: string) => boolean): Compile =>
  (values) =>
  (v) =>
    values.some((p) => test(v, p));

const likeOp: Compile = (values) => {
  const globs = values.map((p) => [...p]);
  return (v) => {
    const chars = [...v];
    return globs.some((g) => glob(g, chars));
  };
};

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const parseNumber = (s: string) => (NUMBER.test(s) ? Number(s) : undefined);

// ISO 8601 or seconds since the epoch; a time without a zone is UTC.
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;
function parseDate(s: string): number | undefined {
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  if (!ISO.test(s)) return undefined;
  const ms = Date.parse(/T[^Z+-]*$/.test(s) ? `${s}Z` : s);
  return Number.isNaN(ms) ? undefined : ms;
}

const orderedOp =
  (parse: (s: string) => number | undefined, test: (req: number, pol: number) => boolean): Compile =>
  (values, key) => {
    const ps = values.map((p) => parse(p) ?? invalidValue(key, p));
    return (v) => {
      const n = parse(v);
      return n !== undefined && ps.some((p) => test(n, p));
    };
  };

const boolOp: Compile = (values, key) => {
  const ps = values.map((p) => (/^(true|false)$/i.test(p) ? p.toLowerCase() : invalidValue(key, p)));
  return (v) => ps.includes(v.toLowerCase());
};

/** IPv4 or IPv6 address as bytes. */
function parseIp(s: string): number[] | undefined {
  if (isIPv4(s)) return s.split('.').map(Number);
  if (!isIPv6(s) || s.includes('%')) return undefined;
  // A dotted IPv4 tail becomes two groups.
  const text = s.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) =>
    [(Number(a) << 8) | Number(b), (Number(c) << 8) | Number(d)].map((n) => n.toString(16)).join(':'),
  );
  const [left, right] = text.split('::');
  const head = left ? left.split(':') : [];
  const tail = right ? right.split(':') : [];
  const groups = right === undefined ? head : [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail];
  return groups.flatMap((g: string) => {
    const n = Number.parseInt(g, 16);
    return [n >> 8, n & 255];
  });
}

interface Cidr {
  bytes: number[];
  bits: number;
}

function parseCidr(s: string): Cidr | undefined {
  const [address, length, ...rest] = s.split('/');
  const bytes = parseIp(address!);
  if (!bytes || rest.length > 0) return undefined;
  const bits = length === undefined ? bytes.length * 8 : /^\d{1,3}$/.test(length) ? Number(length) : -1;
  return bits >= 0 && bits <= bytes.length * 8 ? { bytes, bits } : undefined;
}

function inCidr(ip: number[], { bytes, bits }: Cidr): boolean {
  if (ip.length !== bytes.length) return false;
  for (let i = 0; i * 8 < bits; i++) {
    const mask = (0xff << (8 - Math.min(8, bits - i * 8))) & 0xff;
    if ((ip[i]! & mask) !== (bytes[i]! & mask)) return false;
  }
  return true;
}

const ipOp: Compile = (values, key) => {
  const cidrs = values.map((p) => parseCidr(p) ?? invalidValue(key, p));
  return (v) => {
    let ip = parseIp(v);
    // Node reports IPv4 clients of a dual-stack socket as ::ffff:a.b.c.d.
    if (ip?.length === 16 && ip.slice(0, 12).join() === '0,0,0,0,0,0,0,0,0,0,255,255') ip = ip.slice(12);
    return ip !== undefined && cidrs.some((c) => inCidr(ip, c));
  };
};

const OPERATORS = new Map<string, { compile: Compile; negated: boolean }>();
for (const [names, compile] of [
  ['StringEquals StringNotEquals', strOp((a, b) => a === b)],
  ['StringEqualsIgnoreCase StringNotEqualsIgnoreCase', strOp((a, b) => a.toLowerCase() === b.toLowerCase())],
  ['StringLike StringNotLike', likeOp],
  ['NumericEquals NumericNotEquals', orderedOp(parseNumber, (a, b) => a === b)],
  ['NumericLessThan', orderedOp(parseNumber, (a, b) => a < b)],
  ['NumericLessThanEquals', orderedOp(parseNumber, (a, b) => a <= b)],
  ['NumericGreaterThan', orderedOp(parseNumber, (a, b) => a > b)],
  ['NumericGreaterThanEquals', orderedOp(parseNumber, (a, b) => a >= b)],
  ['DateEquals DateNotEquals', orderedOp(parseDate, (a, b) => a === b)],
  ['DateLessThan', orderedOp(parseDate, (a, b) => a < b)],
  ['DateLessThanEquals', orderedOp(parseDate, (a, b) => a <= b)],
  ['DateGreaterThan', orderedOp(parseDate, (a, b) => a > b)],
  ['DateGreaterThanEquals', orderedOp(parseDate, (a, b) => a >= b)],
  ['Bool', boolOp],
  ['IpAddress NotIpAddress', ipOp],
] as const) {
  const [positive, negative] = names.split(' ');
  OPERATORS.set(positive!.toLowerCase(), { compile, negated: false });
  if (negative) OPERATORS.set(negative.toLowerCase(), { compile, negated: true });
}

function parseConditions(operator: string, block: Json, variables: boolean): Condition[] {
  let name = operator.toLowerCase();
  const set = name.startsWith('forallvalues:') ? 'all' : name.startsWith('foranyvalue:') ? 'any' : undefined;
  if (set) name = name.slice(name.indexOf(':') + 1);
  const ifExists = name !== 'null' && !OPERATORS.has(name) && name.endsWith('ifexists');
  if (ifExists) name = name.slice(0, -'ifexists'.length);
  const op = OPERATORS.get(name);
  if (!op && (name !== 'null' || ifExists)) throw new PolicyError(`Invalid Condition type : ${operator}`);
  if (!isObject(block)) throw new PolicyError(`Condition ${operator} must map condition keys to values`);

  return Object.entries(block).map(([key, raw]): Condition => {
    const k = key.toLowerCase();
    // Deviation: AWS accepts keys it does not know. A condition BleepStore cannot evaluate would
    // make a Deny grant more than its author meant, so the policy is refused instead.
    if (!SUPPORTED_CONDITION_KEYS.includes(k)) {
      throw new PolicyError(`Policy has an invalid condition key: BleepStore does not support ${key}`);
    }
    const list = (Array.isArray(raw) ? raw : [raw]).map((v) =>
      typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined,
    );
    const values = list.filter((v) => v !== undefined);
    if (values.length === 0 || values.length < list.length) invalidValue(key, JSON.stringify(raw));
    if (variables && values.some((v) => v.includes('${'))) unsupportedVariable();

    if (!op) {
      // Null: "true" holds when the key is absent, "false" when it is present.
      const wanted = values.map((v) => (/^(true|false)$/i.test(v) ? v.toLowerCase() : invalidValue(key, v)));
      const holds = (present: boolean) => wanted.includes(present ? 'false' : 'true');
      return { key: k, absent: holds(false), negated: false, matches: () => holds(true), fixedSourceIp: false };
    }
    // An absent key: no match, so false, or true for a negated operator; ...IfExists is true.
    // ForAllValues is true and ForAnyValue false over the empty set of request values
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
    // A single request value makes the set operators the same as the plain one.
    const absent = set ? set === 'all' : ifExists || op.negated;
    const matches = op.compile(values, key);
    const fixedSourceIp =
      name === 'ipaddress' && !set && !ifExists && k === 'aws:sourceip' && values.every((v) => parseCidr(v)!.bits > 0);
    return { key: k, absent, negated: op.negated, matches, fixedSourceIp };
  });
}

// Several values for one key are ORed, NORed for a negated operator; keys and operators are ANDed
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html).
function conditionHolds(c: Condition, context: ReadonlyMap<string, string>): boolean {
  const value = context.get(c.key);
  return value === undefined ? c.absent : c.matches(value) !== c.negated;
}

export function evaluateBucketPolicy(policy: BucketPolicy, req: PolicyRequest): PolicyDecision {
  budget = MATCH_BUDGET;
  try {
    return evaluate(policy, req);
  } catch (err) {
    if (err instanceof OverBudget) return 'deny';
    throw err;
  }
}

function evaluate(policy: BucketPolicy, req: PolicyRequest): PolicyDecision {
  const action = [...req.action.toLowerCase()];
  const resource = [...req.resource];
  let allowed = false;
  for (const s of policy.statements) {
    const applies =
      principalMatches(s.principals, req.principal) !== s.notPrincipal &&
      s.actions.some((a) => glob(a, action)) !== s.notAction &&
      s.resources.some((r) => glob(r, resource)) !== s.notResource &&
      s.conditions.every((c) => conditionHolds(c, req.context));
    if (!applies) continue;
    // An explicit deny overrides any allow.
    if (!s.allow) return 'deny';
    allowed = true;
  }
  return allowed ? 'allow' : undefined;
}

/**
 * "The meaning of public" (S3 Block Public Access,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status):
 * an Allow to everyone ("*", {"AWS": "*"}, or NotPrincipal) is public unless a condition pins it to
 * fixed values. Of the keys BleepStore supports only aws:SourceIp can: IpAddress with CIDRs none of
 * which is /0 (0.0.0.0/0, ::/0 match every address).
 */
export function isPublicPolicy(policy: BucketPolicy): boolean {
  return policy.statements.some(
    (s) =>
      s.allow && (s.notPrincipal ? !s.principals.any : s.principals.any) && !s.conditions.some((c) => c.fixedSourceIp),
  );
}
