// Node-to-node authentication: every request on the cluster port carries the sender's clock
// and an HMAC-SHA256 (RFC 2104) with the shared cluster.secret over method, path (with
// query), that time and the body. A node refuses requests whose MAC does not verify
// (constant-time compare) or whose time is too far from its own, which bounds replays to
// the skew window; Raft tolerates a replayed message (it is just a duplicate).
// A second MAC over the request line and time alone (AUTH_HEADER) is checked before any of
// the body is read, so a stranger cannot make a node buffer a 16 MiB body or stage a blob on
// its disk before being refused; the body's own MAC is checked once it has arrived.
import { createHmac, timingSafeEqual, type Hmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const TIME_HEADER = 'x-bleepstore-cluster-time';
export const MAC_HEADER = 'x-bleepstore-cluster-mac';
export const PROTOCOL_HEADER = 'x-bleepstore-cluster-protocol';
export const AUTH_HEADER = 'x-bleepstore-cluster-auth';
export const DEFAULT_MAX_SKEW_MS = 30_000;
/**
 * The version of everything nodes say to each other (message batches, snapshot and blob wire
 * forms, routes). Raised with any change an older node could misread; nodes of different
 * versions refuse each other, saying which versions met, instead of misreading a message.
 * 1: session 7 (the snapshot wire form of session 6, trailers on forwarded answers).
 * 2: session 10 (command log entries carry inline bytes raw: lib/cluster/command-codec.ts).
 * 3: session 15 (AUTH_HEADER on every request, required before a body is read).
 */
export const CLUSTER_PROTOCOL = 3;

/** An HMAC already fed with the protocol version, request line and time; feed it the body,
 *  then digest. The version is in the MAC, so a message can only be read as the version it
 *  was written for. */
export function macStart(secret: string, method: string, path: string, time: string): Hmac {
  return createHmac('sha256', secret).update(`bleepstore-cluster/${CLUSTER_PROTOCOL}\n${method}\n${path}\n${time}\n`);
}

/** Why a signed request does not speak this node's protocol, in one sentence; undefined when
 *  it does, or when it is not signed at all (checkTime calls that 'missing'). */
export function protocolMismatch(headers: IncomingHttpHeaders): string | undefined {
  const theirs = headers[PROTOCOL_HEADER];
  const signed = headers[MAC_HEADER] !== undefined || headers[AUTH_HEADER] !== undefined || theirs !== undefined;
  if (theirs === String(CLUSTER_PROTOCOL) || !signed) return undefined;
  return typeof theirs === 'string'
    ? `the peer speaks cluster protocol ${theirs.slice(0, 16)} and this node ${CLUSTER_PROTOCOL}: run the same BleepStore version on every node`
    : `the peer sent no cluster protocol version (a BleepStore older than this node's protocol ${CLUSTER_PROTOCOL}): run the same BleepStore version on every node`;
}

export function signHeaders(
  secret: string,
  method: string,
  path: string,
  body: Uint8Array,
  now = Date.now(),
): Record<string, string> {
  const time = String(now);
  return {
    ...peerHeaders(secret, method, path, time),
    [MAC_HEADER]: macStart(secret, method, path, time).update(body).digest('hex'),
  };
}

/** The MAC of the request line and time alone (no body). */
function lineMac(secret: string, method: string, path: string, time: string): Buffer {
  return createHmac('sha256', secret)
    .update(`bleepstore-cluster/${CLUSTER_PROTOCOL}\nrequest-line\n${method}\n${path}\n${time}\n`)
    .digest();
}

/** The protocol, time and request-line MAC headers of a peer request (its body's MAC is added
 *  by signHeaders, or comes later as a trailer). */
export function peerHeaders(secret: string, method: string, path: string, time: string): Record<string, string> {
  return {
    [PROTOCOL_HEADER]: String(CLUSTER_PROTOCOL),
    [TIME_HEADER]: time,
    [AUTH_HEADER]: lineMac(secret, method, path, time).toString('hex'),
  };
}

/** Checks a request's time and request-line MAC before any of its body is read. */
export function checkRequestLine(
  secret: string,
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  maxSkewMs = DEFAULT_MAX_SKEW_MS,
  now = Date.now(),
): AuthFailure | undefined {
  const t = headers[TIME_HEADER];
  const a = headers[AUTH_HEADER];
  if (typeof t !== 'string' || typeof a !== 'string' || !/^\d{1,16}$/.test(t) || !/^[0-9a-f]{64}$/.test(a))
    return 'missing';
  if (Math.abs(now - Number(t)) > maxSkewMs) return 'stale';
  return timingSafeEqual(Buffer.from(a, 'hex'), lineMac(secret, method, path, t)) ? undefined : 'bad-mac';
}

export type AuthFailure = 'missing' | 'stale' | 'bad-mac' | 'protocol';

/** Checks the time header before the body is read; returns why it fails, or undefined. */
export function checkTime(
  headers: IncomingHttpHeaders,
  maxSkewMs = DEFAULT_MAX_SKEW_MS,
  now = Date.now(),
): AuthFailure | undefined {
  const t = headers[TIME_HEADER];
  const m = headers[MAC_HEADER];
  if (typeof t !== 'string' || typeof m !== 'string' || !/^\d{1,16}$/.test(t) || !/^[0-9a-f]{64}$/.test(m))
    return 'missing';
  if (Math.abs(now - Number(t)) > maxSkewMs) return 'stale';
  return undefined;
}

/** Verifies the MAC once the body is complete (constant-time). */
export function checkMac(
  secret: string,
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body: Uint8Array,
): boolean {
  const expected = macStart(secret, method, path, headers[TIME_HEADER] as string)
    .update(body)
    .digest();
  const given = Buffer.from(headers[MAC_HEADER] as string, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
