// /admin/credentials: access keys over the admin API. Changes are metadata commands, so in
// cluster mode they are Raft entries every node applies (`submit` reaches the leader).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createKey, deleteKey, rotateKey, setKeyStatus, type Submitter } from '../metadata/credentials.ts';
import type { MetadataReads } from '../metadata/reads.ts';
import type { CredentialRow, KeyInfo } from '../metadata/types.ts';
import { badRequest, notFound, readJson, sendJson, type Json } from './http.ts';

export interface CredentialRoutes {
  metadata: Pick<MetadataReads, 'listKeys'>;
  submitter: Submitter;
}

/** The spec's Credential, plus the owner BleepStore keeps with every key. */
function credential(k: KeyInfo): Json {
  return {
    access_key_id: k.accessKeyId,
    status: k.active ? 'active' : 'disabled',
    created_at: k.createdAt,
    description: k.displayName,
    owner_id: k.ownerId,
    display_name: k.displayName,
  };
}

function created(row: CredentialRow): Json {
  const { secretKey, ...info } = row;
  return { ...credential(info), secret_access_key: secretKey };
}

function optionalString(body: Json, key: string, max: number): string | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > max)
    throw badRequest(`Validation failed: '${key}' must be a string of at most ${max} characters.`);
  return v;
}

const KEY_PATH = /^\/admin\/credentials\/([^/]+)(\/status|\/rotate)?$/;

/** Answers a /admin/credentials request; false when the path is not one of these. */
export async function handleCredentials(
  c: CredentialRoutes,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<boolean> {
  const method = req.method ?? 'GET';
  if (path === '/admin/credentials') {
    if (method === 'GET') {
      sendJson(res, 200, { credentials: c.metadata.listKeys().map(credential) });
      return true;
    }
    if (method !== 'POST') return false;
    const body = await readJson(req, true);
    const description = optionalString(body, 'description', 256);
    const displayName = optionalString(body, 'display_name', 256);
    const ownerOf = optionalString(body, 'owner_of', 128);
    const accessKeyId = optionalString(body, 'access_key_id', 128);
    const row = await createKey(c.submitter, {
      ...(ownerOf !== undefined ? { ownerOf } : { displayName: displayName ?? description ?? 'admin-api' }),
      ...(accessKeyId !== undefined ? { accessKeyId } : {}),
    });
    sendJson(res, 201, created(row));
    return true;
  }
  const m = KEY_PATH.exec(path);
  if (!m) return false;
  const id = decodeURIComponent(m[1]!);
  if (!m[2] && method === 'DELETE') {
    await deleteKey(c.submitter, id);
    sendJson(res, 204);
    return true;
  }
  if (m[2] === '/status' && method === 'PUT') {
    const body = await readJson(req);
    if (body.status !== 'active' && body.status !== 'disabled')
      throw badRequest('Validation failed: \'status\' must be "active" or "disabled".');
    sendJson(res, 200, credential(await setKeyStatus(c.submitter, id, body.status === 'active')));
    return true;
  }
  // Not in the spec: a new secret for an existing key (what `bleepstore keys rotate` does).
  if (m[2] === '/rotate' && method === 'POST') {
    sendJson(res, 200, created(await rotateKey(c.submitter, id)));
    return true;
  }
  if (!m[2] && method === 'GET') {
    const k = c.metadata.listKeys().find((x) => x.accessKeyId === id);
    if (!k) throw notFound(`No access key "${id}".`);
    sendJson(res, 200, credential(k));
    return true;
  }
  return false;
}
