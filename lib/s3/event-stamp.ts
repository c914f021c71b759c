// Who caused a change: carried by the command so the outbox row written inside the same
// transaction (lib/metadata/outbox.ts) names the request, caller and source address.
import type { EventStamp } from '../metadata/commands.ts';
import type { Ctx } from './context.ts';
import { clientAddress } from '../client-address.ts';

/** Undefined when no event target is configured: then nothing is stamped on the write path. */
export function eventStamp(ctx: Ctx, at?: string): EventStamp | undefined {
  if (!ctx.svc.config.events.targets.length) return undefined;
  return {
    name: ctx.event ?? undefined,
    requestId: ctx.requestId,
    principal: ctx.principal?.ownerId ?? 'anonymous',
    sourceIp: clientAddress(ctx.req) ?? '',
    region: ctx.svc.config.server.region,
    at: at ?? new Date().toISOString(),
  };
}
