// Put/GetBucketNotificationConfiguration: which events of a bucket go to which of the event
// targets named in the server config (lib/events/notification-config.ts has the XML and ARNs).
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketNotificationConfiguration.html
import { notificationConfigXml, parseNotificationConfig } from '../events/notification-config.ts';
import { noSuchBucket } from './access.ts';
import { readRequestBody } from './body.ts';
import type { Ctx } from './context.ts';
import type { BucketEndpoint as B } from './endpoint.ts';
import { sendDocument, sendEmpty } from './respond.ts';
import { parseXml } from './xml.ts';

export async function putBucketNotification(ctx: Ctx, e: B): Promise<void> {
  const root = parseXml(await readRequestBody(ctx, 256 * 1024));
  const targets = new Set(ctx.svc.config.events.targets.map((t) => t.name));
  const rules = parseNotificationConfig(root, targets);
  // An empty <NotificationConfiguration/> removes the configuration, as on AWS.
  if (!(await ctx.svc.metadata.submit({ type: 'bucket.notifications', name: e.bucket, rules })))
    throw noSuchBucket(e.bucket);
  sendEmpty(ctx.res, 200);
}

export function getBucketNotification(ctx: Ctx, e: B): void {
  sendDocument(
    ctx.res,
    'NotificationConfiguration',
    notificationConfigXml(ctx.svc.metadata.notificationRules(e.bucket) ?? []),
  );
}
