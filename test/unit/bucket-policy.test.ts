// Bucket policies: validation as PutBucketPolicy does it, evaluation of one request, and the
// "is public" test of S3 Block Public Access.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type BucketPolicy,
  evaluateBucketPolicy,
  isPublicPolicy,
  parseBucketPolicy,
  POLICY_MAX_BYTES,
  PolicyError,
  type PolicyPrincipal,
  type PolicyRequest,
  SUPPORTED_CONDITION_KEYS,
} from '../../lib/auth/bucket-policy.ts';

const BUCKET = 'photos';
const OBJECTS = 'arn:aws:s3:::photos/*';
const alice: PolicyPrincipal = { ownerId: 'alice', accessKeyId: 'AKALICE1' };
const aliceOtherKey: PolicyPrincipal = { ownerId: 'alice', accessKeyId: 'AKALICE2' };
const bob: PolicyPrincipal = { ownerId: 'bob', accessKeyId: 'AKBOB' };

type Doc = Record<string, unknown>;

/** One statement, allowing everyone s3:GetObject on every object unless overridden. */
const stmt = (fields: Doc = {}): Doc => ({
  Effect: 'Allow',
  Principal: '*',
  Action: 's3:GetObject',
  Resource: OBJECTS,
  ...fields,
});

const policy = (...statements: Doc[]): BucketPolicy =>
  parseBucketPolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }), BUCKET);

interface Req {
  action?: string;
  resource?: string;
  principal?: PolicyPrincipal | null;
  context?: Record<string, string>;
}

const decide = (p: BucketPolicy, r: Req = {}) => {
  const req: PolicyRequest = {
    action: r.action ?? 's3:GetObject',
    resource: r.resource ?? 'arn:aws:s3:::photos/cat.jpg',
    principal: r.principal === undefined ? alice : r.principal,
    context: new Map(Object.entries(r.context ?? {})),
  };
  return evaluateBucketPolicy(p, req);
};

/** The decision of a one-statement Allow policy with this Condition for this request context. */
const withCondition = (condition: Doc, context: Record<string, string> = {}) =>
  decide(policy(stmt({ Condition: condition })), { context });

function refuses(text: string, message: string | RegExp, bucket = BUCKET): void {
  assert.throws(
    () => parseBucketPolicy(text, bucket),
    (err: unknown) => {
      assert.ok(err instanceof PolicyError, `not a PolicyError: ${err}`);
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

const refusesStatement = (statement: Doc, message: string | RegExp) =>
  refuses(JSON.stringify({ Version: '2012-10-17', Statement: [statement] }), message);

test('an Allow for everyone grants anonymous and signed callers alike', () => {
  const p = policy(stmt());
  assert.equal(decide(p, { principal: null }), 'allow');
  assert.equal(decide(p, { principal: bob }), 'allow');
});

test('a request no statement covers gets no decision, so ACLs decide', () => {
  const p = policy(stmt());
  assert.equal(decide(p, { action: 's3:PutObject' }), undefined);
  assert.equal(decide(p, { action: 's3:ListBucket', resource: 'arn:aws:s3:::photos' }), undefined);
});

test('a Deny statement wins over an Allow for the same request, in either order', () => {
  const deny = stmt({ Effect: 'Deny', Principal: { AWS: 'bob' } });
  assert.equal(decide(policy(stmt(), deny), { principal: bob }), 'deny');
  assert.equal(decide(policy(deny, stmt()), { principal: bob }), 'deny');
  assert.equal(decide(policy(stmt(), deny), { principal: alice }), 'allow');
});

test('a bare owner id, a CanonicalUser or an account root ARN grants every key of that owner', () => {
  for (const principal of [{ AWS: 'alice' }, { CanonicalUser: 'alice' }, { AWS: 'arn:aws:iam::alice:root' }]) {
    const p = policy(stmt({ Principal: principal }));
    assert.equal(decide(p, { principal: alice }), 'allow', JSON.stringify(principal));
    assert.equal(decide(p, { principal: aliceOtherKey }), 'allow', JSON.stringify(principal));
    assert.equal(decide(p, { principal: bob }), undefined, JSON.stringify(principal));
    assert.equal(decide(p, { principal: null }), undefined, JSON.stringify(principal));
  }
});

test('a user ARN grants only that access key of that owner', () => {
  const p = policy(stmt({ Principal: { AWS: 'arn:aws:iam::alice:user/AKALICE1' } }));
  assert.equal(decide(p, { principal: alice }), 'allow');
  assert.equal(decide(p, { principal: aliceOtherKey }), undefined);
  assert.equal(decide(p, { principal: { ownerId: 'bob', accessKeyId: 'AKALICE1' } }), undefined);
  assert.equal(decide(p, { principal: null }), undefined);
});

test('{"AWS": "*"} is everyone, anonymous included, and principal lists may mix forms', () => {
  assert.equal(decide(policy(stmt({ Principal: { AWS: '*' } })), { principal: null }), 'allow');
  const p = policy(stmt({ Principal: { AWS: ['bob', 'arn:aws:iam::carol:user/K1'], CanonicalUser: ['alice'] } }));
  assert.equal(decide(p, { principal: bob }), 'allow');
  assert.equal(decide(p, { principal: aliceOtherKey }), 'allow');
  assert.equal(decide(p, { principal: { ownerId: 'carol', accessKeyId: 'K1' } }), 'allow');
  assert.equal(decide(p, { principal: { ownerId: 'carol', accessKeyId: 'K2' } }), undefined);
  assert.equal(decide(p, { principal: null }), undefined);
});

test('malformed principals are refused as "Invalid principal in policy"', () => {
  for (const principal of [
    'alice',
    {},
    [],
    { AWS: [] },
    { AWS: 5 },
    { AWS: null },
    { Service: 's3.amazonaws.com' },
    { AWS: 'ali*' },
    { AWS: 'ali ce' },
    { CanonicalUser: '*' },
    { CanonicalUser: 'arn:aws:iam::alice:root' },
    { AWS: 'arn:aws:iam::alice:role/admin' },
    { AWS: 'arn:aws:iam::alice:user/' },
    { AWS: 'arn:aws:iam::alice:user/a/b' },
    { AWS: 'arn:aws:iam::*:root' },
    { AWS: 'arn:aws:sts::alice:root' },
  ]) {
    refusesStatement(stmt({ Principal: principal }), 'Invalid principal in policy');
  }
  refusesStatement(stmt({ Principal: undefined, NotPrincipal: { AWS: [] } }), 'Invalid principal in policy');
});

test('NotPrincipal in a Deny denies everyone but the named principal, anonymous callers included', () => {
  const p = policy(stmt(), stmt({ Effect: 'Deny', Principal: undefined, NotPrincipal: { AWS: 'alice' } }));
  assert.equal(decide(p, { principal: alice }), 'allow');
  assert.equal(decide(p, { principal: bob }), 'deny');
  assert.equal(decide(p, { principal: null }), 'deny');
});

test('action wildcards match whole names, and action names are case-insensitive', () => {
  const p = (action: string | string[]) => policy(stmt({ Action: action }));
  assert.equal(decide(p('s3:Get*'), { action: 's3:GetObjectAcl' }), 'allow');
  assert.equal(decide(p('s3:Get*'), { action: 's3:PutObject' }), undefined);
  assert.equal(decide(p('s3:*Object'), { action: 's3:DeleteObject' }), 'allow');
  assert.equal(decide(p('s3:*Object'), { action: 's3:DeleteObjectTagging' }), undefined);
  assert.equal(decide(p('s3:GetObjec?'), { action: 's3:GetObject' }), 'allow');
  assert.equal(decide(p('s3:GetObjec?'), { action: 's3:GetObjectAcl' }), undefined);
  assert.equal(decide(p('*'), { action: 's3:PutObjectRetention' }), 'allow');
  assert.equal(decide(p('s3:*'), { action: 's3:PutObjectRetention' }), 'allow');
  assert.equal(decide(p('S3:getobject'), { action: 's3:GetObject' }), 'allow');
  assert.equal(decide(p('s3:GetObject'), { action: 's3:GETOBJECT' }), 'allow');
  assert.equal(decide(p(['s3:PutObject', 's3:GetObject']), { action: 's3:GetObject' }), 'allow');
});

test('unknown or malformed actions are refused as "Policy has invalid action"', () => {
  for (const action of [
    's3:GetObjects',
    's3:Frobnicate',
    'iam:GetUser',
    'GetObject',
    's3:',
    's3:Get Object',
    '*:*',
    5,
    [],
    ['s3:GetObject', 7],
  ]) {
    refusesStatement(stmt({ Action: action }), 'Policy has invalid action');
  }
  // Every action of the brief is known, whatever its case.
  for (const action of ['s3:GetObjectVersionAttributes', 's3:putbucketpolicy', 's3:ListAllMyBuckets']) {
    assert.doesNotThrow(() => policy(stmt({ Action: action, Resource: '*' })), action);
  }
});

test('NotAction applies the statement to every action but those listed', () => {
  const p = policy(stmt({ Action: 's3:*' }), stmt({ Effect: 'Deny', Action: undefined, NotAction: 's3:GetObject' }));
  assert.equal(decide(p, { action: 's3:GetObject' }), 'allow');
  assert.equal(decide(p, { action: 's3:PutObject' }), 'deny');
});

test('resource wildcards: bucket/* covers every key, prefix/* a prefix, ? one character, case-sensitive', () => {
  const p = (resource: string | string[]) => policy(stmt({ Action: 's3:*', Resource: resource }));
  const on = (r: BucketPolicy, resource: string) => decide(r, { resource });
  assert.equal(on(p(OBJECTS), 'arn:aws:s3:::photos/a/b/c.jpg'), 'allow');
  assert.equal(on(p(OBJECTS), 'arn:aws:s3:::photos'), undefined);
  assert.equal(on(p('arn:aws:s3:::photos/2024/*'), 'arn:aws:s3:::photos/2024/jan/x'), 'allow');
  assert.equal(on(p('arn:aws:s3:::photos/2024/*'), 'arn:aws:s3:::photos/2025/x'), undefined);
  assert.equal(on(p('arn:aws:s3:::photos/img?.png'), 'arn:aws:s3:::photos/img1.png'), 'allow');
  assert.equal(on(p('arn:aws:s3:::photos/img?.png'), 'arn:aws:s3:::photos/img.png'), undefined);
  assert.equal(on(p('arn:aws:s3:::photos/img?.png'), 'arn:aws:s3:::photos/img12.png'), undefined);
  assert.equal(on(p('arn:aws:s3:::photos/img?.png'), 'arn:aws:s3:::photos/img😀.png'), 'allow');
  assert.equal(on(p('arn:aws:s3:::photos/Cat.jpg'), 'arn:aws:s3:::photos/cat.jpg'), undefined);
  assert.equal(on(p('arn:aws:s3:::photos'), 'arn:aws:s3:::photos'), 'allow');
  assert.equal(on(p('arn:aws:s3:::photos'), 'arn:aws:s3:::photos/x'), undefined);
  assert.equal(on(p('*'), 'arn:aws:s3:::photos'), 'allow');
  assert.equal(on(p('arn:aws:s3:::pho*'), 'arn:aws:s3:::photos/x'), 'allow');
  assert.equal(on(p(['arn:aws:s3:::photos/a', 'arn:aws:s3:::photos/b']), 'arn:aws:s3:::photos/b'), 'allow');
});

test('resources outside the policy bucket or not S3 bucket ARNs are refused as "Policy has invalid resource"', () => {
  for (const resource of [
    'arn:aws:s3:::other/*',
    'arn:aws:s3:::other',
    'arn:aws:s3:::photos2/*',
    'arn:aws:s3:::oth*/x',
    'arn:aws:s3:::',
    'arn:aws:s3:::/x',
    'arn:aws:s3:us-east-1:123:photos/*',
    'arn:aws:iam::alice:root',
    'photos/*',
    5,
    [],
    [OBJECTS, 'arn:aws:s3:::other/*'],
  ]) {
    refusesStatement(stmt({ Resource: resource }), 'Policy has invalid resource');
  }
  assert.doesNotThrow(() => policy(stmt({ Resource: 'arn:aws:s3:::p?otos/*' })));
});

test('NotResource applies the statement to every resource but those listed', () => {
  const p = policy(
    stmt({ Resource: '*' }),
    stmt({ Effect: 'Deny', Resource: undefined, NotResource: 'arn:aws:s3:::photos/public/*' }),
  );
  assert.equal(decide(p, { resource: 'arn:aws:s3:::photos/public/a' }), 'allow');
  assert.equal(decide(p, { resource: 'arn:aws:s3:::photos/private/a' }), 'deny');
});

test('a statement none of whose actions takes any of its resources is refused', () => {
  const message = 'Action does not apply to any resource(s) in statement';
  refusesStatement(stmt({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::photos' }), message);
  refusesStatement(stmt({ Action: 's3:ListBucket', Resource: OBJECTS }), message);
  refusesStatement(stmt({ Action: ['s3:ListBucket', 's3:GetBucketAcl'], Resource: 'arn:aws:s3:::photos/a' }), message);
  refusesStatement(stmt({ Action: 's3:ListAllMyBuckets', Resource: ['arn:aws:s3:::photos', OBJECTS] }), message);
  // One action that applies is enough; wildcards, '*' resources and NotResource always pass.
  for (const fields of [
    { Action: ['s3:GetObject', 's3:ListBucket'], Resource: OBJECTS },
    { Action: ['s3:GetObject', 's3:ListBucket'], Resource: 'arn:aws:s3:::photos' },
    { Action: 's3:Get*', Resource: 'arn:aws:s3:::photos' },
    { Action: 's3:GetObject', Resource: '*' },
    { Action: 's3:ListAllMyBuckets', Resource: '*' },
    { Action: 's3:GetObject', Resource: 'arn:aws:s3:::photos*' },
    { Action: 's3:GetObject', Resource: undefined, NotResource: 'arn:aws:s3:::photos' },
    { Action: undefined, NotAction: 's3:GetObject', Resource: 'arn:aws:s3:::photos' },
  ]) {
    assert.doesNotThrow(() => policy(stmt(fields)), JSON.stringify(fields));
  }
});

test('missing, doubled and unknown fields are refused with S3 messages', () => {
  refusesStatement(stmt({ Effect: undefined }), 'Missing required field Effect');
  refusesStatement(stmt({ Principal: undefined }), 'Missing required field Principal');
  refusesStatement(stmt({ Action: undefined }), 'Missing required field Action');
  refusesStatement(stmt({ Resource: undefined }), 'Missing required field Resource');
  refusesStatement(stmt({ Effect: 'allow' }), 'Invalid effect: "allow"');
  refusesStatement(stmt({ Foo: 1 }), 'Unknown field Foo');
  refusesStatement(stmt({ NotPrincipal: '*' }), /both Principal and NotPrincipal/);
  refusesStatement(stmt({ NotAction: 's3:PutObject' }), /both Action and NotAction/);
  refusesStatement(stmt({ NotResource: OBJECTS }), /both Resource and NotResource/);
  refusesStatement(stmt({ Sid: 5 }), /Sid/);
  refusesStatement(stmt({ Condition: [] }), /Condition/);
  refuses(JSON.stringify({ Version: '2012-10-17' }), 'Missing required field Statement');
  refuses(JSON.stringify({ Statement: [] }), 'Could not parse the policy: Statement is empty!');
  refuses(JSON.stringify({ Statement: ['x'] }), /statement/i);
  refuses(JSON.stringify({ Statement: [stmt()], Foo: 1 }), 'Unknown field Foo');
  refuses(JSON.stringify({ Version: '2020-01-01', Statement: [stmt()] }), /valid version/);
  refuses(JSON.stringify({ Id: 5, Statement: [stmt()] }), /Id/);
});

test('a policy with no Version, the 2008 version, an Id, a Sid or a single statement object is accepted', () => {
  for (const doc of [
    { Statement: stmt() },
    { Version: '2008-10-17', Id: 'p1', Statement: [stmt({ Sid: 'Public read' })] },
  ]) {
    assert.equal(decide(parseBucketPolicy(JSON.stringify(doc), BUCKET)), 'allow');
  }
});

test('text that is not a JSON object is refused', () => {
  const firstByte = "Policies must be valid JSON and the first byte must be '{'";
  refuses('', firstByte);
  refuses('not json', firstByte);
  refuses(JSON.stringify([stmt()]), firstByte);
  refuses('"{}"', firstByte);
  refuses('{"Statement": ', 'This policy contains invalid Json');
  refuses('{"Statement": [] } }', 'This policy contains invalid Json');
  assert.doesNotThrow(() => parseBucketPolicy(`\n  ${JSON.stringify({ Statement: stmt() })}`, BUCKET));
});

test('a policy may be 20 KB in UTF-8 bytes and no more', () => {
  assert.equal(POLICY_MAX_BYTES, 20480);
  const base = JSON.stringify({ Statement: stmt() });
  assert.doesNotThrow(() => parseBucketPolicy(base + ' '.repeat(POLICY_MAX_BYTES - base.length), BUCKET));
  refuses(base + ' '.repeat(POLICY_MAX_BYTES - base.length + 1), 'Policy exceeds the maximum allowed document size.');
  // 'é' is one character but two bytes.
  const sid = (n: number) => JSON.stringify({ Statement: stmt({ Sid: 'é'.repeat(n) }) });
  const chars = sid(0).length;
  assert.doesNotThrow(() => parseBucketPolicy(sid((POLICY_MAX_BYTES - chars) / 2), BUCKET));
  refuses(sid((POLICY_MAX_BYTES - chars) / 2 + 1), 'Policy exceeds the maximum allowed document size.');
});

test('string conditions: Equals, EqualsIgnoreCase and Like, and their negations', () => {
  const ua = (op: string, value: string | string[], agent: string) =>
    withCondition({ [op]: { 'aws:UserAgent': value } }, { 'aws:useragent': agent });
  assert.equal(ua('StringEquals', 'curl', 'curl'), 'allow');
  assert.equal(ua('StringEquals', 'curl', 'Curl'), undefined);
  assert.equal(ua('StringEqualsIgnoreCase', 'curl', 'CURL'), 'allow');
  assert.equal(ua('StringEqualsIgnoreCase', 'curl', 'wget'), undefined);
  assert.equal(ua('StringLike', 'aws-cli/*', 'aws-cli/2.15 Python'), 'allow');
  assert.equal(ua('StringLike', 'aws-cli/?.15*', 'aws-cli/2.15'), 'allow');
  assert.equal(ua('StringLike', 'aws-cli/*', 'boto3/1.0'), undefined);
  assert.equal(ua('StringLike', 'AWS-CLI/*', 'aws-cli/2'), undefined);
  assert.equal(ua('StringNotEquals', 'curl', 'wget'), 'allow');
  assert.equal(ua('StringNotEquals', 'curl', 'curl'), undefined);
  assert.equal(ua('StringNotEqualsIgnoreCase', 'curl', 'CURL'), undefined);
  assert.equal(ua('StringNotEqualsIgnoreCase', 'curl', 'wget'), 'allow');
  assert.equal(ua('StringNotLike', 'aws-cli/*', 'boto3'), 'allow');
  assert.equal(ua('StringNotLike', 'aws-cli/*', 'aws-cli/2'), undefined);
});

test('numeric conditions compare numbers, and values that are not numbers are refused', () => {
  const keys = (op: string, value: unknown, maxKeys: string) =>
    withCondition({ [op]: { 's3:max-keys': value } }, { 's3:max-keys': maxKeys });
  assert.equal(keys('NumericLessThanEquals', '100', '100'), 'allow');
  assert.equal(keys('NumericLessThanEquals', 100, '101'), undefined);
  assert.equal(keys('NumericLessThan', '100', '99'), 'allow');
  assert.equal(keys('NumericLessThan', '100', '100'), undefined);
  assert.equal(keys('NumericGreaterThan', '10', '11'), 'allow');
  assert.equal(keys('NumericGreaterThan', '10', '10'), undefined);
  assert.equal(keys('NumericGreaterThanEquals', '10', '10'), 'allow');
  assert.equal(keys('NumericGreaterThanEquals', '10', '9'), undefined);
  assert.equal(keys('NumericEquals', '10', '10.0'), 'allow');
  assert.equal(keys('NumericEquals', '10', '1e1'), 'allow');
  assert.equal(keys('NumericEquals', '10', '11'), undefined);
  assert.equal(keys('NumericNotEquals', '10', '11'), 'allow');
  assert.equal(keys('NumericNotEquals', '10', '10'), undefined);
  // A request value that is not a number matches nothing.
  assert.equal(keys('NumericLessThan', '100', 'abc'), undefined);
  for (const bad of ['ten', '', '1,000', '0x10']) {
    refusesStatement(stmt({ Condition: { NumericEquals: { 's3:max-keys': bad } } }), /s3:max-keys/);
  }
});

test('date conditions take ISO 8601 or epoch seconds on either side', () => {
  const at = (op: string, value: unknown, context: Record<string, string>) =>
    withCondition({ [op]: { 'aws:CurrentTime': value } }, context);
  const now = { 'aws:currenttime': '2024-06-01T12:00:00Z' };
  assert.equal(at('DateLessThan', '2025-01-01T00:00:00Z', now), 'allow');
  assert.equal(at('DateLessThan', '2024-01-01', now), undefined);
  assert.equal(at('DateGreaterThan', '2024-06-01T11:59:59Z', now), 'allow');
  assert.equal(at('DateGreaterThan', '2024-06-01T12:00:00Z', now), undefined);
  assert.equal(at('DateGreaterThanEquals', '2024-06-01T12:00:00Z', now), 'allow');
  assert.equal(at('DateLessThanEquals', '2024-06-01T14:00:00+02:00', now), 'allow');
  assert.equal(at('DateLessThanEquals', '2024-06-01T11:00:00', now), undefined);
  assert.equal(at('DateEquals', '1717243200', now), 'allow');
  assert.equal(at('DateNotEquals', 1717243200, now), undefined);
  assert.equal(at('DateNotEquals', '2024-06-02', now), 'allow');
  const epoch = (op: string, value: string, seconds: string) =>
    withCondition({ [op]: { 'aws:EpochTime': value } }, { 'aws:epochtime': seconds });
  assert.equal(epoch('DateLessThan', '2024-06-01T12:00:01Z', '1717243200'), 'allow');
  assert.equal(epoch('DateLessThan', '2024-06-01T12:00:00Z', '1717243200'), undefined);
  for (const bad of ['yesterday', '2024-13', '01/02/2024', '2024-06-01T12:00:00 UTC']) {
    refusesStatement(stmt({ Condition: { DateLessThan: { 'aws:CurrentTime': bad } } }), /aws:CurrentTime/);
  }
});

test('a date-time without a zone is UTC, whatever the local time zone', () => {
  const tz = process.env.TZ;
  process.env.TZ = 'Asia/Tokyo';
  try {
    const now = { 'aws:currenttime': '2024-06-01T12:00:00Z' };
    assert.equal(withCondition({ DateEquals: { 'aws:CurrentTime': '2024-06-01T12:00:00' } }, now), 'allow');
    assert.equal(withCondition({ DateEquals: { 'aws:CurrentTime': '2024-06-01T12:00' } }, now), 'allow');
  } finally {
    if (tz === undefined) Reflect.deleteProperty(process.env, 'TZ');
    else process.env.TZ = tz;
  }
});

test('Bool conditions take true or false, as strings or JSON booleans', () => {
  const tls = (value: unknown, secure: string) =>
    withCondition({ Bool: { 'aws:SecureTransport': value } }, { 'aws:securetransport': secure });
  assert.equal(tls('true', 'true'), 'allow');
  assert.equal(tls(true, 'true'), 'allow');
  assert.equal(tls('True', 'true'), 'allow');
  assert.equal(tls(false, 'true'), undefined);
  assert.equal(tls('false', 'false'), 'allow');
  refusesStatement(stmt({ Condition: { Bool: { 'aws:SecureTransport': 'yes' } } }), /aws:SecureTransport/);
});

test('IpAddress matches IPv4 and IPv6 CIDRs and bare addresses; NotIpAddress is its negation', () => {
  const from = (op: string, value: string | string[], ip: string) =>
    withCondition({ [op]: { 'aws:SourceIp': value } }, { 'aws:sourceip': ip });
  assert.equal(from('IpAddress', '192.0.2.0/24', '192.0.2.77'), 'allow');
  assert.equal(from('IpAddress', '192.0.2.0/24', '192.0.3.1'), undefined);
  assert.equal(from('IpAddress', '10.0.0.0/12', '10.15.255.255'), 'allow');
  assert.equal(from('IpAddress', '10.0.0.0/12', '10.16.0.0'), undefined);
  assert.equal(from('IpAddress', '203.0.113.9', '203.0.113.9'), 'allow');
  assert.equal(from('IpAddress', '203.0.113.9', '203.0.113.10'), undefined);
  assert.equal(from('IpAddress', '0.0.0.0/0', '8.8.8.8'), 'allow');
  assert.equal(from('IpAddress', '2001:db8::/32', '2001:db8:1234::1'), 'allow');
  assert.equal(from('IpAddress', '2001:db8::/32', '2001:db9::1'), undefined);
  assert.equal(from('IpAddress', '2001:db8::/33', '2001:db8:8000::1'), undefined);
  assert.equal(from('IpAddress', '2001:0DB8:0:0:0:0:0:1', '2001:db8::1'), 'allow');
  assert.equal(from('IpAddress', '64:ff9b::192.0.2.0/120', '64:ff9b::c000:201'), 'allow');
  // IPv4 families do not cross, but a client seen as an IPv4-mapped IPv6 address is its IPv4 address.
  assert.equal(from('IpAddress', '192.0.2.0/24', '2001:db8::1'), undefined);
  assert.equal(from('IpAddress', '192.0.2.0/24', '::ffff:192.0.2.5'), 'allow');
  assert.equal(from('IpAddress', '::/0', '192.0.2.5'), undefined);
  assert.equal(from('IpAddress', '192.0.2.0/24', 'not-an-ip'), undefined);
  assert.equal(from('NotIpAddress', '192.0.2.0/24', '198.51.100.1'), 'allow');
  assert.equal(from('NotIpAddress', '192.0.2.0/24', '192.0.2.1'), undefined);
  for (const bad of ['10.0.0.0/33', '1.2.3', '256.0.0.1', '10.0.0.0/', '10.0.0.0/8/8', '::/129', 'fe80::1%eth0', 'x']) {
    refusesStatement(stmt({ Condition: { IpAddress: { 'aws:SourceIp': bad } } }), /aws:SourceIp/);
  }
});

test('several values for one key are ORed, and NORed for a negated operator', () => {
  const ips = ['192.0.2.0/24', '198.51.100.0/24'];
  const from = (op: string, ip: string) => withCondition({ [op]: { 'aws:SourceIp': ips } }, { 'aws:sourceip': ip });
  assert.equal(from('IpAddress', '198.51.100.7'), 'allow');
  assert.equal(from('IpAddress', '203.0.113.7'), undefined);
  assert.equal(from('NotIpAddress', '198.51.100.7'), undefined);
  assert.equal(from('NotIpAddress', '192.0.2.7'), undefined);
  assert.equal(from('NotIpAddress', '203.0.113.7'), 'allow');
  const acl = (value: string) =>
    withCondition(
      { StringNotEquals: { 's3:x-amz-acl': ['public-read', 'public-read-write'] } },
      { 's3:x-amz-acl': value },
    );
  assert.equal(acl('public-read-write'), undefined);
  assert.equal(acl('private'), 'allow');
});

test('several keys and several operators must all hold', () => {
  const condition = {
    StringEquals: { 's3:prefix': 'home/', 's3:delimiter': '/' },
    Bool: { 'aws:SecureTransport': 'true' },
  };
  const all = { 's3:prefix': 'home/', 's3:delimiter': '/', 'aws:securetransport': 'true' };
  assert.equal(withCondition(condition, all), 'allow');
  assert.equal(withCondition(condition, { ...all, 's3:delimiter': '-' }), undefined);
  assert.equal(withCondition(condition, { ...all, 'aws:securetransport': 'false' }), undefined);
});

test('an absent key fails a condition, except a negated operator, which it satisfies', () => {
  assert.equal(withCondition({ StringEquals: { 's3:prefix': 'home/' } }), undefined);
  assert.equal(withCondition({ StringLike: { 's3:prefix': '*' } }), undefined);
  assert.equal(withCondition({ NumericLessThan: { 's3:max-keys': '10' } }), undefined);
  assert.equal(withCondition({ IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }), undefined);
  assert.equal(withCondition({ Bool: { 'aws:SecureTransport': 'false' } }), undefined);
  assert.equal(withCondition({ StringNotEquals: { 's3:prefix': 'home/' } }), 'allow');
  assert.equal(withCondition({ StringNotLike: { 's3:prefix': '*' } }), 'allow');
  assert.equal(withCondition({ NumericNotEquals: { 's3:max-keys': '10' } }), 'allow');
  assert.equal(withCondition({ DateNotEquals: { 'aws:CurrentTime': '2024-01-01' } }), 'allow');
  assert.equal(withCondition({ NotIpAddress: { 'aws:SourceIp': '192.0.2.0/24' } }), 'allow');
});

test('...IfExists holds when the key is absent and tests the value when it is present', () => {
  const cond = { StringEqualsIfExists: { 's3:x-amz-acl': 'private' } };
  assert.equal(withCondition(cond), 'allow');
  assert.equal(withCondition(cond, { 's3:x-amz-acl': 'private' }), 'allow');
  assert.equal(withCondition(cond, { 's3:x-amz-acl': 'public-read' }), undefined);
  const negated = { StringNotEqualsIfExists: { 's3:x-amz-acl': 'private' } };
  assert.equal(withCondition(negated), 'allow');
  assert.equal(withCondition(negated, { 's3:x-amz-acl': 'private' }), undefined);
  assert.equal(withCondition({ NumericLessThanIfExists: { 's3:max-keys': '5' } }), 'allow');
  assert.equal(
    withCondition({ BoolIfExists: { 'aws:SecureTransport': 'true' } }, { 'aws:securetransport': 'false' }),
    undefined,
  );
});

test('Null tests whether the key is absent ("true") or present ("false")', () => {
  assert.equal(withCondition({ Null: { 's3:versionid': 'true' } }), 'allow');
  assert.equal(withCondition({ Null: { 's3:versionid': 'true' } }, { 's3:versionid': 'v1' }), undefined);
  assert.equal(withCondition({ Null: { 's3:versionid': false } }, { 's3:versionid': 'v1' }), 'allow');
  assert.equal(withCondition({ Null: { 's3:versionid': 'false' } }), undefined);
  refusesStatement(stmt({ Condition: { Null: { 's3:versionid': 'maybe' } } }), /s3:versionid/);
});

test('ForAllValues holds and ForAnyValue fails for an absent key; with a value they act as the plain operator', () => {
  assert.equal(withCondition({ 'ForAllValues:StringEquals': { 's3:prefix': 'a' } }), 'allow');
  assert.equal(withCondition({ 'ForAnyValue:StringEquals': { 's3:prefix': 'a' } }), undefined);
  assert.equal(withCondition({ 'ForAnyValue:StringNotEquals': { 's3:prefix': 'a' } }), undefined);
  assert.equal(withCondition({ 'ForAnyValue:StringEqualsIfExists': { 's3:prefix': 'a' } }), undefined);
  for (const op of ['ForAllValues:StringLike', 'ForAnyValue:StringLike']) {
    assert.equal(withCondition({ [op]: { 's3:prefix': 'a*' } }, { 's3:prefix': 'abc' }), 'allow', op);
    assert.equal(withCondition({ [op]: { 's3:prefix': 'a*' } }, { 's3:prefix': 'xyz' }), undefined, op);
  }
  assert.equal(
    withCondition({ 'ForAllValues:StringNotEquals': { 's3:prefix': 'a' } }, { 's3:prefix': 'a' }),
    undefined,
  );
});

test('condition key names are case-insensitive', () => {
  assert.equal(
    withCondition({ IpAddress: { 'AWS:SOURCEIP': '192.0.2.0/24' } }, { 'aws:sourceip': '192.0.2.1' }),
    'allow',
  );
  assert.equal(withCondition({ StringEquals: { 'S3:Prefix': 'x' } }, { 's3:prefix': 'x' }), 'allow');
});

test('unknown operators, unsupported keys and malformed values are refused', () => {
  const cond = (condition: unknown, message: string | RegExp) =>
    refusesStatement(stmt({ Condition: condition }), message);
  cond({ StringEqualz: { 's3:prefix': 'a' } }, 'Invalid Condition type : StringEqualz');
  cond({ NullIfExists: { 's3:prefix': 'true' } }, 'Invalid Condition type : NullIfExists');
  cond({ 'ForSomeValues:StringEquals': { 's3:prefix': 'a' } }, 'Invalid Condition type : ForSomeValues:StringEquals');
  cond({ ArnLike: { 's3:prefix': 'a' } }, 'Invalid Condition type : ArnLike');
  cond({ StringEquals: { 'aws:PrincipalArn': 'x' } }, /aws:PrincipalArn.*|BleepStore/);
  cond({ StringEquals: { 'aws:PrincipalArn': 'x' } }, /BleepStore does not support aws:PrincipalArn/);
  cond({ StringEquals: { 's3:x-amz-server-side-encryption': 'AES256' } }, /does not support/);
  cond({ StringEquals: 'x' }, /StringEquals/);
  for (const value of [null, {}, [], [['a']], ['a', null]]) cond({ StringEquals: { 's3:prefix': value } }, /s3:prefix/);
  // Operators are matched without regard to case.
  assert.equal(withCondition({ stringequals: { 's3:prefix': 'x' } }, { 's3:prefix': 'x' }), 'allow');
});

test('policy variables are refused in version 2012-10-17 and literal text before it', () => {
  const username = '$' + '{aws:username}';
  const variable = `arn:aws:s3:::photos/${username}/*`;
  refusesStatement(stmt({ Resource: variable }), 'Policy variables are not supported by BleepStore');
  refusesStatement(
    stmt({ Condition: { StringLike: { 's3:prefix': `${username}/*` } } }),
    'Policy variables are not supported by BleepStore',
  );
  const old = parseBucketPolicy(
    JSON.stringify({ Version: '2008-10-17', Statement: stmt({ Resource: variable }) }),
    BUCKET,
  );
  assert.equal(decide(old, { resource: `arn:aws:s3:::photos/${username}/x` }), 'allow');
  assert.equal(decide(old, { resource: 'arn:aws:s3:::photos/alice/x' }), undefined);
});

test('the supported condition keys are the lower-case keys the request context carries', () => {
  assert.deepEqual([...SUPPORTED_CONDITION_KEYS].sort(), [
    'aws:currenttime',
    'aws:epochtime',
    'aws:referer',
    'aws:securetransport',
    'aws:sourceip',
    'aws:useragent',
    's3:authtype',
    's3:delimiter',
    's3:max-keys',
    's3:prefix',
    's3:signatureversion',
    's3:versionid',
    's3:x-amz-acl',
  ]);
  for (const key of SUPPORTED_CONDITION_KEYS) {
    assert.doesNotThrow(() => policy(stmt({ Condition: { StringLikeIfExists: { [key]: '*' } } })), key);
  }
});

test('a policy is public when an Allow reaches everyone, unless aws:SourceIp pins it to CIDRs', () => {
  const pub = (...statements: Doc[]) => isPublicPolicy(policy(...statements));
  const ip = (op: string, value: string | string[]) => ({ Condition: { [op]: { 'aws:SourceIp': value } } });
  assert.equal(pub(stmt()), true);
  assert.equal(pub(stmt({ Principal: { AWS: ['alice', '*'] } })), true);
  assert.equal(pub(stmt({ Principal: { AWS: 'alice' } })), false);
  assert.equal(pub(stmt({ Principal: { CanonicalUser: 'alice' } }), stmt({ Effect: 'Deny' })), false);
  assert.equal(pub(stmt({ Principal: undefined, NotPrincipal: { AWS: 'alice' } })), true);
  assert.equal(pub(stmt({ Principal: undefined, NotPrincipal: '*' })), false);
  assert.equal(pub(stmt(ip('IpAddress', '203.0.113.0/24'))), false);
  assert.equal(pub(stmt(ip('IpAddress', ['203.0.113.0/24', '2001:db8::/32']))), false);
  assert.equal(pub(stmt(ip('IpAddress', '0.0.0.0/0'))), true);
  assert.equal(pub(stmt(ip('IpAddress', ['203.0.113.0/24', '::/0']))), true);
  assert.equal(pub(stmt(ip('NotIpAddress', '203.0.113.0/24'))), true);
  assert.equal(pub(stmt(ip('IpAddressIfExists', '203.0.113.0/24'))), true);
  assert.equal(pub(stmt({ Condition: { StringEquals: { 'aws:UserAgent': 'curl' } } })), true);
  assert.equal(pub(stmt({ Principal: { AWS: 'alice' } }), stmt(ip('IpAddress', '0.0.0.0/0'))), true);
});

test('a pathological wildcard pattern against a 10 KiB key is decided within the step budget', () => {
  const pattern = '*a'.repeat(100);
  const key = 'a'.repeat(10 * 1024);
  const p = policy(
    stmt({ Resource: `arn:aws:s3:::photos/${pattern}b` }),
    stmt({ Resource: '*', Condition: { StringLike: { 's3:prefix': `${pattern}b` } } }),
  );
  // Within the evaluation's step budget (a cut would answer 'deny'), so cheap enough.
  assert.equal(decide(p, { resource: `arn:aws:s3:::photos/${key}`, context: { 's3:prefix': key } }), undefined);
  assert.equal(decide(p, { resource: `arn:aws:s3:::photos/${key}b` }), 'allow');
});

test('an evaluation that would hold the event loop is cut short and denies, never allows', () => {
  // A star, 9,000 a's and a b against 18,000 a's: about 80 million matching steps unbounded.
  const pattern = `*${'a'.repeat(9_000)}b`;
  const ua = 'a'.repeat(18_000);
  const p = policy(stmt({ Condition: { StringLike: { 'aws:UserAgent': pattern } } }));
  // Unbounded, no statement applies (undefined): the deny can only come from the cut.
  assert.equal(decide(p, { context: { 'aws:useragent': ua } }), 'deny');
  // Texts that cost little under the same policy are still decided on their merits.
  assert.equal(decide(p, { context: { 'aws:useragent': 'ab' } }), undefined);
  assert.equal(decide(p, { context: { 'aws:useragent': `${'a'.repeat(9_000)}b` } }), 'allow');
  assert.equal(decide(policy(stmt()), {}), 'allow', 'the budget is per evaluation');
});
