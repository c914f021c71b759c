// Backup tools from Debian against a versioned bucket (scripts/install-test-clients.sh
// installs them; in CI none may be skipped): rclone lists old versions with --s3-versions, and
// restic runs init, backup, forget --prune, check and restore.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, ListObjectVersionsCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type TestServer } from '../helpers/server.ts';

const run = promisify(execFile);
const TOOLS = { rclone: '/usr/bin/rclone', restic: '/usr/bin/restic' };

function missingTool(bin: string): string | false {
  if (existsSync(bin)) return false;
  if (process.env.CI) throw new Error(`${bin} is missing; scripts/install-test-clients.sh installs it`);
  return `${bin} is not installed (run scripts/install-test-clients.sh)`;
}

describe('backup tools on a versioned bucket', () => {
  let srv: TestServer;
  let work: string;
  // The tools speak plain HTTP to the test server; a CA bundle from the environment is not theirs.
  const { AWS_CA_BUNDLE: _unused, ...baseEnv } = process.env;
  before(async () => {
    srv = await startServer();
    work = await mkdtemp(path.join(tmpdir(), 'bleepstore-backup-tools-'));
  });
  after(async () => {
    await srv.stop();
    await rm(work, { recursive: true, force: true });
  });

  async function versionedBucket(name: string): Promise<void> {
    const s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
  }

  test('rclone --s3-versions lists and reads the old versions after overwrites', {
    skip: missingTool(TOOLS.rclone),
  }, async () => {
    await versionedBucket('rclone-versions');
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
    const file = path.join(work, 'doc.txt');
    for (const body of ['first\n', 'second!\n', 'third!!!\n']) {
      await writeFile(file, body);
      await rclone('copyto', file, 'bs:rclone-versions/doc.txt');
    }
    const plain = (await rclone('lsf', 'bs:rclone-versions')).stdout.trim().split('\n');
    assert.deepEqual(plain, ['doc.txt']);
    const all = (await rclone('lsl', '--s3-versions', 'bs:rclone-versions')).stdout.trim().split('\n');
    assert.equal(all.length, 3, `three versions listed:\n${all.join('\n')}`);
    // Old versions are named doc-vYYYY-MM-DD-HHMMSS-000.txt; read each and find every body.
    const names = (await rclone('lsf', '--s3-versions', 'bs:rclone-versions')).stdout.trim().split('\n');
    const bodies = new Set<string>();
    for (const name of names) {
      const out = path.join(work, `v-${bodies.size}`);
      await rclone('copyto', '--s3-versions', `bs:rclone-versions/${name}`, out);
      bodies.add(await readFile(out, 'utf8'));
    }
    assert.deepEqual([...bodies].sort(), ['first\n', 'second!\n', 'third!!!\n']);
  });

  test('restic: init, two backups, forget --prune, check --read-data, restore identical', {
    skip: missingTool(TOOLS.restic),
    timeout: 300_000,
  }, async () => {
    await versionedBucket('restic-repo');
    const env = {
      ...baseEnv,
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      AWS_DEFAULT_REGION: REGION,
      RESTIC_REPOSITORY: `s3:${srv.url}/restic-repo`,
      RESTIC_PASSWORD: 'bleepstore-test',
      RESTIC_CACHE_DIR: path.join(work, 'restic-cache'),
    };
    const restic = (...args: string[]) => run(TOOLS.restic, args, { env, maxBuffer: 16 * 1024 * 1024 });
    const src = path.join(work, 'restic-src');
    await mkdir(path.join(src, 'sub'), { recursive: true });
    const files: Record<string, Buffer> = {
      'a.bin': randomBytes(3 * 1024 * 1024),
      'sub/b.txt': Buffer.from('second file\n'),
      'sub/c.bin': randomBytes(200 * 1024),
    };
    for (const [name, data] of Object.entries(files)) await writeFile(path.join(src, name), data);
    await run(TOOLS.restic, ['init'], { env });
    await restic('backup', src);
    files['sub/b.txt'] = Buffer.from('changed second file\n');
    files['d.bin'] = randomBytes(1024 * 1024);
    for (const [name, data] of Object.entries(files)) await writeFile(path.join(src, name), data);
    await restic('backup', src);
    await restic('forget', '--keep-last', '1', '--prune');
    await restic('check', '--read-data');
    const snapshots = JSON.parse((await restic('snapshots', '--json')).stdout) as unknown[];
    assert.equal(snapshots.length, 1);
    const out = path.join(work, 'restic-out');
    await restic('restore', 'latest', '--target', out);
    const restored = path.join(out, src);
    assert.deepEqual((await readdir(restored)).sort(), ['a.bin', 'd.bin', 'sub']);
    for (const [name, data] of Object.entries(files))
      assert.ok((await readFile(path.join(restored, name))).equals(data), `${name} restored identical`);
    // Prune deleted packs: on a versioned bucket that leaves delete markers, and old versions stay.
    const versions = await srv.client().send(new ListObjectVersionsCommand({ Bucket: 'restic-repo' }));
    assert.ok((versions.DeleteMarkers?.length ?? 0) > 0, 'prune left delete markers');
  });
});
