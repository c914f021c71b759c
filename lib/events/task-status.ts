// GET /_bleepstore/tasks/<id>: an async-mode write's state as JSON, {"id","state"} with state
// pending, done or failed (+ "error": {code, message}, the S3 error the write got). Like
// /health it needs no signature: the id is 128 random bits handed only to the writer, and the
// answer says nothing but the write's outcome. An unknown (or long finished) id is 404.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WriteTasks } from './write-tasks.ts';

export const TASKS_PATH = '/_bleepstore/tasks/';

export function serveTaskStatus(req: IncomingMessage, res: ServerResponse, tasks: WriteTasks, rawPath: string): void {
  const id = rawPath.slice(TASKS_PATH.length);
  const status = /^[0-9a-f]{32}$/.test(id) ? tasks.status(id) : undefined;
  const body = Buffer.from(JSON.stringify(status ?? { id, error: { code: 'NoSuchTask', message: 'No such task.' } }));
  res.writeHead(status ? 200 : 404, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    'Content-Length': String(body.length),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
