// An event stamp and an owner-only ACL for commands submitted straight to a MetadataStore in
// the outbox tests: caller 'o', as a request from 127.0.0.1 would stamp them.
import type { EventStamp } from '../../lib/metadata/commands.ts';
import type { Acl } from '../../lib/metadata/types.ts';

export const stamp: EventStamp = {
  requestId: 'r',
  principal: 'o',
  sourceIp: '127.0.0.1',
  region: 'us-east-1',
  at: '2026-01-01T00:00:00.000Z',
};

export const ownerOnly: Acl = { owner: { id: 'o', display_name: 'o' }, grants: [] };
