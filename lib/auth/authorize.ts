// Who may do what. For now: every signed request acts as its owner; an anonymous request
// may only read what an ACL grants to AllUsers. Full ACL enforcement is issue #5.
import { S3Error } from '../s3/errors.ts';
import type { Principal } from './types.ts';
import type { Acl, Permission } from '../metadata/types.ts';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';

/** True when the ACL grants `perm` (or FULL_CONTROL) to the caller. */
export function aclAllows(acl: Acl, principal: Principal | null, perm: Permission): boolean {
  if (principal && acl.owner.id === principal.ownerId) return true;
  return acl.grants.some((g) => {
    if (g.permission !== perm && g.permission !== 'FULL_CONTROL') return false;
    const who = g.grantee;
    if (who.type === 'Group') return who.uri === ALL_USERS || (principal !== null && who.uri === AUTHENTICATED_USERS);
    return principal !== null && who.id === principal.ownerId;
  });
}

export function requirePrincipal(principal: Principal | null): Principal {
  if (!principal) throw new S3Error('AccessDenied');
  return principal;
}

export function requireAcl(acl: Acl, principal: Principal | null, perm: Permission): void {
  if (!aclAllows(acl, principal, perm)) throw new S3Error('AccessDenied');
}
