// What a person at a terminal sees once the server is ready: where S3 answers, the API docs,
// and client settings to paste. Logs stay on stdout; this goes to the terminal only.
import type { Config } from './config.ts';

export const DEFAULT_ACCESS_KEY = 'bleepstore';
export const DEFAULT_SECRET_KEY = 'bleepstore-secret';

export function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\./.test(address) || /^::ffff:127\./.test(address);
}

/** The well-known development key is live (present, active, unchanged secret). */
export function defaultKeyLive(lookup: (id: string) => { secretKey: string; active: boolean } | undefined): boolean {
  const c = lookup(DEFAULT_ACCESS_KEY);
  return Boolean(c?.active && c.secretKey === DEFAULT_SECRET_KEY);
}

export function bannerText(url: string, config: Config, opts: { defaultKey: boolean; docs: boolean }): string {
  const ak = config.auth.access_key;
  const secret = opts.defaultKey ? DEFAULT_SECRET_KEY : '<your secret key>';
  const lines = [
    '',
    `  BleepStore is ready: S3 at ${url}${opts.docs ? `   API docs: ${url}/docs` : ''}`,
    '',
    '  AWS CLI:',
    `    aws configure set aws_access_key_id ${ak} --profile bleepstore`,
    `    aws configure set aws_secret_access_key ${secret} --profile bleepstore`,
    `    aws configure set region ${config.server.region} --profile bleepstore`,
    `    aws --profile bleepstore --endpoint-url ${url} s3 mb s3://my-bucket`,
    '',
    '  rclone:',
    `    rclone config create bleepstore s3 provider Other endpoint ${url} access_key_id ${ak} secret_access_key ${secret} region ${config.server.region} force_path_style true`,
    '    rclone lsd bleepstore:',
    '',
  ];
  if (opts.defaultKey)
    lines.push(
      '  These are the well-known default credentials: set your own with --access-key/--secret-key before others can reach this server.',
      '',
    );
  return lines.join('\n');
}
