// Writing responses: XML documents, empty bodies, and S3 error documents.
import type { ServerResponse } from 'node:http';
import type { S3Error } from './errors.ts';
import { xmlDocument, type XmlNode } from './xml.ts';

export function sendXml(res: ServerResponse, status: number, xml: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(xml, 'utf8');
  res.writeHead(status, { ...headers, 'Content-Type': 'application/xml', 'Content-Length': String(body.length) });
  res.end(body);
}

export function sendDocument(
  res: ServerResponse,
  root: string,
  body: XmlNode,
  headers: Record<string, string> = {},
  status = 200,
): void {
  sendXml(res, status, xmlDocument(root, body), headers);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Length': '0' });
  res.end();
}

/** The S3 error document; HEAD responses carry the status and headers only. */
export function errorXml(err: S3Error, resource: string, requestId: string, hostId: string): string {
  return xmlDocument(
    'Error',
    {
      Code: err.code,
      Message: err.message,
      ...err.extra,
      Resource: resource,
      RequestId: requestId,
      HostId: hostId,
    },
    null,
  );
}

export function sendError(
  res: ServerResponse,
  err: S3Error,
  opts: { method: string; resource: string; requestId: string; hostId: string; close?: boolean },
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { ...err.headers };
  if (opts.close) headers.Connection = 'close';
  if (opts.method === 'HEAD') {
    res.writeHead(err.status, { ...headers, 'Content-Type': 'application/xml' });
    res.end();
    return;
  }
  sendXml(res, err.status, errorXml(err, opts.resource, opts.requestId, opts.hostId), headers);
}
