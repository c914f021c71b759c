// Bucket notification configuration: the AWS XML of PutBucketNotificationConfiguration, with
// destinations naming targets from the server config, as MinIO's ARNs do:
// arn:bleepstore:sqs:<region>:<account, ignored>:<target name>.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html
import { S3Error } from '../s3/errors.ts';
import { child, children, childText, type XmlElement, type XmlNode } from '../s3/xml.ts';
import type { EventRoute } from './event.ts';
import { eventMatches, type EventName, isValidEventPattern } from './names.ts';

export type RuleKind = 'Queue' | 'Topic' | 'CloudFunction';

export interface NotificationRule {
  id: string;
  kind: RuleKind;
  arn: string;
  target: string;
  events: string[];
  prefix: string;
  suffix: string;
}

const KINDS: RuleKind[] = ['Queue', 'Topic', 'CloudFunction'];
const MAX_RULES = 100;

export function targetArn(region: string, target: string): string {
  return `arn:bleepstore:sqs:${region}::${target}`;
}

function targetOfArn(arn: string): string | undefined {
  const parts = arn.split(':');
  return parts.length === 6 && parts[0] === 'arn' && parts[1] === 'bleepstore' && parts[5] ? parts[5] : undefined;
}

function invalid(message: string): S3Error {
  return new S3Error('InvalidArgument', message);
}

/** Parses and validates the request body; `targets` are the names the server config defines. */
export function parseNotificationConfig(root: XmlElement, targets: ReadonlySet<string>): NotificationRule[] {
  if (root.name !== 'NotificationConfiguration') throw new S3Error('MalformedXML');
  const rules: NotificationRule[] = [];
  const ids = new Set<string>();
  for (const kind of KINDS) {
    for (const el of children(root, `${kind}Configuration`)) {
      const arn = (childText(el, kind) ?? '').trim();
      const target = targetOfArn(arn);
      if (!target || !targets.has(target))
        throw invalid(`Unable to validate the following destination configurations: ${arn || '(none)'}`);
      const events = children(el, 'Event').map((e) => e.text.trim());
      if (events.length === 0) throw new S3Error('MalformedXML');
      for (const e of events)
        if (!isValidEventPattern(e)) throw invalid(`The event is not supported for notifications: ${e}`);
      let prefix = '';
      let suffix = '';
      const key = child(el, 'Filter') && child(child(el, 'Filter')!, 'S3Key');
      for (const rule of key ? children(key, 'FilterRule') : []) {
        const name = (childText(rule, 'Name') ?? '').toLowerCase();
        const value = childText(rule, 'Value') ?? '';
        if (name === 'prefix' && !prefix) prefix = value;
        else if (name === 'suffix' && !suffix) suffix = value;
        else
          throw invalid(
            'Cannot specify more than one prefix or suffix rule in a filter, or a rule name other than prefix or suffix.',
          );
      }
      let id = (childText(el, 'Id') ?? '').trim();
      if (!id) id = `rule-${rules.length + 1}`;
      if (ids.has(id)) throw invalid(`Configuration id "${id}" is used more than once.`);
      ids.add(id);
      rules.push({ id, kind, arn, target, events, prefix, suffix });
    }
  }
  if (rules.length > MAX_RULES) throw invalid(`A bucket can have at most ${MAX_RULES} notification rules.`);
  return rules;
}

export function notificationConfigXml(rules: readonly NotificationRule[]): XmlNode {
  const body: XmlNode = {};
  for (const kind of KINDS) {
    const mine = rules.filter((r) => r.kind === kind);
    if (!mine.length) continue;
    body[`${kind}Configuration`] = mine.map((r) => {
      const filterRules = [];
      if (r.prefix) filterRules.push({ Name: 'prefix', Value: r.prefix });
      if (r.suffix) filterRules.push({ Name: 'suffix', Value: r.suffix });
      return {
        Id: r.id,
        [kind]: r.arn,
        Event: r.events,
        Filter: filterRules.length ? { S3Key: { FilterRule: filterRules } } : undefined,
      };
    });
  }
  return body;
}

/** The targets one event goes to under a bucket's rules (each target at most once). */
export function routesFor(rules: readonly NotificationRule[], name: EventName, key: string | undefined): EventRoute[] {
  const out: EventRoute[] = [];
  for (const r of rules) {
    if (!r.events.some((p) => eventMatches(p, name))) continue;
    const k = key ?? '';
    if (!k.startsWith(r.prefix) || !k.endsWith(r.suffix)) continue;
    if (out.some((o) => o.target === r.target)) continue;
    out.push({ target: r.target, configurationId: r.id });
  }
  return out;
}
