// Real S3 clients against a real server: the AWS CLI v2, boto3, s3cmd and rclone, from
// Debian's packages (scripts/install-test-clients.sh). In CI none may be skipped. Each puts
// a small and a 5 MiB file (single PUT) and a 64 MiB file through its multipart path.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type TestServer } from '../helpers/server.ts';

const run = promisify(execFile);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// Debian's binaries by absolute path: a pyenv or pip install earlier on PATH is not what we test.
const TOOLS = { aws: '/usr/bin/aws', python: '/usr/bin/python3', s3cmd: '/usr/bin/s3cmd', rclone: '/usr/bin/rclone' };

function missingTool(bin: string): string | false {
  if (existsSync(bin)) return false;
  if (process.env.CI) throw new Error(`${bin} is missing; scripts/install-test-clients.sh installs it`);
  return `${bin} is not installed (run scripts/install-test-clients.sh)`;
}

describe('S3 client compatibility', () => {
  let srv: TestServer;
  let work: string;
  let small: Buffer;
  let big: Buffer;
  let smallFile: string;
  let bigFile: string;
  let huge: Buffer;
  let hugeFile: string;
  before(async () => {
    srv = await startServer();
    work = await mkdtemp(path.join(tmpdir(), 'bleepstore-clients-'));
    small = Buffer.from('hello from a small file\n');
    big = randomBytes(5 * 1024 * 1024);
    smallFile = path.join(work, 'small.txt');
    bigFile = path.join(work, 'big.bin');
    await writeFile(smallFile, small);
    await writeFile(bigFile, big);
    huge = randomBytes(64 * 1024 * 1024);
    hugeFile = path.join(work, 'huge.bin');
    await writeFile(hugeFile, huge);
  });

  /** The object went through the multipart path when its ETag ends in -N. */
  async function assertMultipart(bucket: string, key: string): Promise<void> {
    const head = await srv.client().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.match(head.ETag ?? '', /-\d+"$/, `${bucket}/${key} was uploaded in parts`);
    assert.equal(head.ContentLength, huge.length);
  }
  after(async () => {
    await srv.stop();
    await rm(work, { recursive: true, force: true });
  });

  async function checkDownloaded(file: string, want: Buffer): Promise<void> {
    assert.equal(sha256(await readFile(file)), sha256(want));
  }

  test('AWS CLI v2: mb, cp up, ls, cp down, server-side copy, rm, rb', { skip: missingTool(TOOLS.aws) }, async () => {
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      AWS_DEFAULT_REGION: REGION,
      AWS_CONFIG_FILE: path.join(work, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(work, 'none'),
      AWS_PAGER: '',
    };
    const aws = (...args: string[]) => run(TOOLS.aws, ['--endpoint-url', srv.url, ...args], { env });
    await aws('s3', 'mb', 's3://cli-bucket');
    await aws('s3', 'cp', smallFile, 's3://cli-bucket/dir/small.txt');
    await aws('s3', 'cp', bigFile, 's3://cli-bucket/big.bin');
    const ls = await aws('s3', 'ls', 's3://cli-bucket/', '--recursive');
    assert.match(ls.stdout, /dir\/small\.txt/);
    assert.match(ls.stdout, new RegExp(`${big.length}\\s+big\\.bin`));
    await aws('s3', 'cp', 's3://cli-bucket/big.bin', path.join(work, 'aws-big.out'));
    await checkDownloaded(path.join(work, 'aws-big.out'), big);
    await aws('s3', 'cp', 's3://cli-bucket/dir/small.txt', 's3://cli-bucket/copy.txt');
    await aws('s3', 'cp', 's3://cli-bucket/copy.txt', path.join(work, 'aws-copy.out'));
    await checkDownloaded(path.join(work, 'aws-copy.out'), small);
    const head = await aws('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'big.bin');
    assert.equal(JSON.parse(head.stdout).ContentLength, big.length);
    await aws('s3', 'cp', hugeFile, 's3://cli-bucket/huge.bin');
    await assertMultipart('cli-bucket', 'huge.bin');
    await aws('s3', 'cp', 's3://cli-bucket/huge.bin', path.join(work, 'aws-huge.out'));
    await checkDownloaded(path.join(work, 'aws-huge.out'), huge);
    await aws('s3', 'rm', 's3://cli-bucket/', '--recursive');
    await aws('s3', 'rb', 's3://cli-bucket');
    const buckets = await aws('s3api', 'list-buckets');
    assert.ok(!JSON.parse(buckets.stdout).Buckets.some((b: { Name: string }) => b.Name === 'cli-bucket'));
  });

  test('boto3: create, put, list, get, copy, delete', { skip: missingTool(TOOLS.python) }, async () => {
    const script = `
import boto3, hashlib, json, sys
s3 = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3], region_name=sys.argv[4])
s3.create_bucket(Bucket='boto-bucket')
s3.upload_file(sys.argv[5], 'boto-bucket', 'small.txt')
s3.upload_file(sys.argv[6], 'boto-bucket', 'big.bin')
keys = [o['Key'] for o in s3.list_objects_v2(Bucket='boto-bucket')['Contents']]
big = s3.get_object(Bucket='boto-bucket', Key='big.bin')['Body'].read()
s3.copy_object(Bucket='boto-bucket', Key='copy.txt', CopySource={'Bucket': 'boto-bucket', 'Key': 'small.txt'})
copy = s3.get_object(Bucket='boto-bucket', Key='copy.txt')['Body'].read()
s3.download_file('boto-bucket', 'small.txt', sys.argv[7])
s3.upload_file(sys.argv[8], 'boto-bucket', 'huge.bin')
huge_etag = s3.head_object(Bucket='boto-bucket', Key='huge.bin')['ETag']
s3.download_file('boto-bucket', 'huge.bin', sys.argv[9])
deleted = s3.delete_objects(Bucket='boto-bucket', Delete={'Objects': [{'Key': k} for k in ['small.txt', 'big.bin', 'copy.txt', 'huge.bin']]})
s3.delete_bucket(Bucket='boto-bucket')
print(json.dumps({'keys': keys, 'big': hashlib.sha256(big).hexdigest(), 'copy': copy.decode(), 'deleted': len(deleted['Deleted']), 'huge_etag': huge_etag}))
`;
    const out = path.join(work, 'boto-small.out');
    const hugeOut = path.join(work, 'boto-huge.out');
    const { stdout } = await run(
      TOOLS.python,
      ['-c', script, srv.url, ACCESS_KEY, SECRET_KEY, REGION, smallFile, bigFile, out, hugeFile, hugeOut],
      { maxBuffer: 1 << 20 },
    );
    const r = JSON.parse(stdout);
    assert.deepEqual(r.keys, ['big.bin', 'small.txt']);
    assert.equal(r.big, sha256(big));
    assert.equal(r.copy, small.toString());
    assert.equal(r.deleted, 4);
    assert.match(r.huge_etag, /-\d+"$/, 'boto3 upload_file used multipart');
    await checkDownloaded(out, small);
    await checkDownloaded(hugeOut, huge);
  });

  test('s3cmd: mb, put, ls, get, cp, del, rb', { skip: missingTool(TOOLS.s3cmd) }, async () => {
    const host = new URL(srv.url).host;
    const cfg = path.join(work, 's3cfg');
    await writeFile(
      cfg,
      `[default]\naccess_key = ${ACCESS_KEY}\nsecret_key = ${SECRET_KEY}\nhost_base = ${host}\nhost_bucket = ${host}\nuse_https = False\nbucket_location = ${REGION}\nsignature_v2 = False\n`,
    );
    const s3cmd = (...args: string[]) => run(TOOLS.s3cmd, ['-c', cfg, ...args]);
    await s3cmd('mb', 's3://s3cmd-bucket');
    await s3cmd('put', smallFile, 's3://s3cmd-bucket/small.txt');
    await s3cmd('put', bigFile, 's3://s3cmd-bucket/big.bin');
    const ls = await s3cmd('ls', 's3://s3cmd-bucket/');
    assert.match(ls.stdout, /s3:\/\/s3cmd-bucket\/big\.bin/);
    assert.match(ls.stdout, /s3:\/\/s3cmd-bucket\/small\.txt/);
    await s3cmd('get', 's3://s3cmd-bucket/big.bin', path.join(work, 's3cmd-big.out'));
    await checkDownloaded(path.join(work, 's3cmd-big.out'), big);
    await s3cmd('cp', 's3://s3cmd-bucket/small.txt', 's3://s3cmd-bucket/copy.txt');
    await s3cmd('get', 's3://s3cmd-bucket/copy.txt', path.join(work, 's3cmd-copy.out'));
    await checkDownloaded(path.join(work, 's3cmd-copy.out'), small);
    await s3cmd('put', '--multipart-chunk-size-mb=16', hugeFile, 's3://s3cmd-bucket/huge.bin');
    await assertMultipart('s3cmd-bucket', 'huge.bin');
    await s3cmd('get', 's3://s3cmd-bucket/huge.bin', path.join(work, 's3cmd-huge.out'));
    await checkDownloaded(path.join(work, 's3cmd-huge.out'), huge);
    await s3cmd(
      'del',
      's3://s3cmd-bucket/small.txt',
      's3://s3cmd-bucket/big.bin',
      's3://s3cmd-bucket/copy.txt',
      's3://s3cmd-bucket/huge.bin',
    );
    await s3cmd('rb', 's3://s3cmd-bucket');
  });

  test('s3cmd with signature_v2 = True (AWS Signature Version 2): mb, put, multipart put, ls, get, setacl, del, rb', {
    skip: missingTool(TOOLS.s3cmd),
  }, async () => {
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html
    const host = new URL(srv.url).host;
    const cfg = path.join(work, 's3cfg-v2');
    await writeFile(
      cfg,
      `[default]\naccess_key = ${ACCESS_KEY}\nsecret_key = ${SECRET_KEY}\nhost_base = ${host}\nhost_bucket = ${host}\nuse_https = False\nbucket_location = ${REGION}\nsignature_v2 = True\n`,
    );
    const s3cmd = (...args: string[]) =>
      run(TOOLS.s3cmd, ['-c', cfg, '--debug', ...args]).then((r) => {
        assert.doesNotMatch(r.stderr, /AWS4-HMAC-SHA256 Credential=/, 's3cmd signed with Signature Version 2');
        assert.match(r.stderr, /Using signature v2/);
        return r;
      });
    await s3cmd('mb', 's3://s3cmd-v2-bucket');
    await s3cmd('put', smallFile, 's3://s3cmd-v2-bucket/small file.txt');
    await s3cmd('put', '--multipart-chunk-size-mb=16', hugeFile, 's3://s3cmd-v2-bucket/huge.bin');
    await assertMultipart('s3cmd-v2-bucket', 'huge.bin');
    const ls = await s3cmd('ls', 's3://s3cmd-v2-bucket/');
    assert.match(ls.stdout, /small file\.txt/);
    await s3cmd('get', 's3://s3cmd-v2-bucket/small file.txt', path.join(work, 's3cmd-v2-small.out'));
    await checkDownloaded(path.join(work, 's3cmd-v2-small.out'), small);
    await s3cmd('setacl', '--acl-public', 's3://s3cmd-v2-bucket/small file.txt');
    const anonymous = await fetch(`${srv.url}/s3cmd-v2-bucket/small%20file.txt`);
    assert.equal(await anonymous.text(), small.toString());
    await s3cmd('del', 's3://s3cmd-v2-bucket/small file.txt', 's3://s3cmd-v2-bucket/huge.bin');
    await s3cmd('rb', 's3://s3cmd-v2-bucket');
  });

  test('s3cmd signurl: a Signature Version 2 presigned URL downloads the object until it expires', {
    skip: missingTool(TOOLS.s3cmd),
  }, async () => {
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html#RESTAuthenticationQueryStringAuth
    const host = new URL(srv.url).host;
    const cfg = path.join(work, 's3cfg-signurl');
    await writeFile(
      cfg,
      `[default]\naccess_key = ${ACCESS_KEY}\nsecret_key = ${SECRET_KEY}\nhost_base = ${host}\nhost_bucket = ${host}\nuse_https = False\nbucket_location = ${REGION}\n`,
    );
    const s3cmd = (...args: string[]) => run(TOOLS.s3cmd, ['-c', cfg, ...args]);
    await s3cmd('mb', 's3://signurl-bucket');
    await s3cmd('put', smallFile, 's3://signurl-bucket/shared.txt');
    const url = (await s3cmd('signurl', 's3://signurl-bucket/shared.txt', '+600')).stdout.trim();
    assert.match(url, /AWSAccessKeyId=.*Expires=\d+.*Signature=/);
    const ok = await fetch(url);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), small.toString());
    const expired = (
      await s3cmd('signurl', 's3://signurl-bucket/shared.txt', String(Math.floor(Date.now() / 1000) - 60))
    ).stdout.trim();
    const refused = await fetch(expired);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
    const tampered = await fetch(url.replace('shared.txt', 'other.txt'));
    assert.match(await tampered.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
  });

  test('rclone: mkdir, copyto up, ls, copyto down, server-side copy, deletefile, rmdir', {
    skip: missingTool(TOOLS.rclone),
  }, async () => {
    // rclone's AWS SDK cannot load a custom CA bundle into its transport; we speak plain HTTP anyway.
    const { AWS_CA_BUNDLE: _unused, ...baseEnv } = process.env;
    const env = {
      ...baseEnv,
      RCLONE_CONFIG_BS_TYPE: 's3',
      RCLONE_CONFIG_BS_PROVIDER: 'Other',
      RCLONE_CONFIG_BS_ENDPOINT: srv.url,
      RCLONE_CONFIG_BS_ACCESS_KEY_ID: ACCESS_KEY,
      RCLONE_CONFIG_BS_SECRET_ACCESS_KEY: SECRET_KEY,
      RCLONE_CONFIG_BS_REGION: REGION,
      RCLONE_CONFIG_BS_FORCE_PATH_STYLE: 'true',
    };
    const rclone = (...args: string[]) =>
      run(TOOLS.rclone, ['--config', path.join(work, 'rclone.conf'), '--quiet', ...args], { env });
    await rclone('mkdir', 'bs:rclone-bucket');
    await rclone('copyto', smallFile, 'bs:rclone-bucket/dir/small.txt');
    await rclone('copyto', bigFile, 'bs:rclone-bucket/big.bin');
    const ls = await rclone('ls', 'bs:rclone-bucket');
    assert.match(ls.stdout, new RegExp(`${big.length} big\\.bin`));
    assert.match(ls.stdout, /dir\/small\.txt/);
    await rclone('copyto', 'bs:rclone-bucket/big.bin', path.join(work, 'rclone-big.out'));
    await checkDownloaded(path.join(work, 'rclone-big.out'), big);
    await rclone('copyto', 'bs:rclone-bucket/dir/small.txt', 'bs:rclone-bucket/copy.txt');
    await rclone('copyto', 'bs:rclone-bucket/copy.txt', path.join(work, 'rclone-copy.out'));
    await checkDownloaded(path.join(work, 'rclone-copy.out'), small);
    await rclone(
      'copyto',
      '--s3-upload-cutoff',
      '16M',
      '--s3-chunk-size',
      '16M',
      hugeFile,
      'bs:rclone-bucket/huge.bin',
    );
    await assertMultipart('rclone-bucket', 'huge.bin');
    await rclone('copyto', 'bs:rclone-bucket/huge.bin', path.join(work, 'rclone-huge.out'));
    await checkDownloaded(path.join(work, 'rclone-huge.out'), huge);
    for (const k of ['dir/small.txt', 'big.bin', 'copy.txt', 'huge.bin'])
      await rclone('deletefile', `bs:rclone-bucket/${k}`);
    await rclone('rmdir', 'bs:rclone-bucket');
  });
});
