// Who caused a change: carried by the command so the outbox row written inside the same
// transaction (lib/metadata/outbox.ts) names the request, caller and source address.
import type { EventStamp } from '../metadata/commands.ts';
import type { Ctx } from './context.ts';

export function eventStamp(ctx: Ctx, at = new Date().toISOString()): EventStamp {
  return {
    name: ctx.event ?? undefined,
    requestId: ctx.requestId,
    principal: ctx.principal?.ownerId ?? 'anonymous',
    sourceIp: ctx.req.socket.remoteAddress ?? '',
    region: ctx.svc.config.server.region,
    at,
  };
}
