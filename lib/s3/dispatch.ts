// Endpoint → permission check → handler, all from the operation's declaration
// (lib/s3/operations.ts). The check runs once, here, before any handler reads a body.
import type { Ctx } from './context.ts';
import { grantFor } from './access.ts';
import { declarationOf } from './operations.ts';

export async function dispatch(ctx: Ctx): Promise<void> {
  const e = ctx.endpoint;
  const decl = declarationOf(e.op);
  const grant = grantFor(ctx, decl, e);
  ctx.event = decl.event;
  // The table's type ties each handler to its endpoint and grant; here they meet untyped.
  return (decl.handler as (ctx: Ctx, e: unknown, grant: unknown) => void | Promise<void>)(ctx, e, grant);
}
