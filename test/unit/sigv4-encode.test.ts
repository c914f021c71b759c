import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalQuery, canonicalUri, parseQuery, percentDecode, uriEncode } from '../../lib/auth/sigv4/encode.ts';
import { canonicalTrailers } from '../../lib/auth/sigv4/chunk.ts';
import { normalizeHeaderValue } from '../../lib/auth/sigv4/canonical.ts';
import { formatAmzDate, parseAmzDate, parseCredential } from '../../lib/auth/sigv4/scope.ts';

test('only unreserved characters are left unencoded, with upper-case hex for the rest', () => {
  assert.equal(uriEncode('AZaz09-_.~'), 'AZaz09-_.~');
  assert.equal(uriEncode("a b+c/d=e&f!*'()%é"), 'a%20b%2Bc%2Fd%3De%26f%21%2A%27%28%29%25%C3%A9');
});

test('the canonical URI re-encodes each segment and keeps the path as sent otherwise', () => {
  assert.equal(canonicalUri(''), '/');
  assert.equal(canonicalUri('/bucket/key'), '/bucket/key');
  assert.equal(canonicalUri('/b/a b!'), '/b/a%20b%21');
  assert.equal(canonicalUri('/b/%7e%2a%c3%a9'), '/b/~%2A%C3%A9');
  assert.equal(canonicalUri('/b/x//y/./z/../w/'), '/b/x//y/./z/../w/');
  assert.equal(canonicalUri('/b/a%2Fb'), '/b/a%2Fb');
  assert.equal(canonicalUri('/b/a+b'), '/b/a%2Bb');
});

test('malformed escapes and bytes that are not UTF-8 round-trip instead of failing', () => {
  assert.equal(canonicalUri('/b/%zz%'), '/b/%25zz%25');
  assert.equal(canonicalUri('/b/%FF%fe'), '/b/%FF%FE');
  assert.deepEqual([...percentDecode('%FF+a', true)], [0xff, 0x20, 0x61]);
});

test('the canonical query is sorted by name then value and gives valueless parameters an =', () => {
  assert.equal(canonicalQuery(''), '');
  assert.equal(canonicalQuery('acl'), 'acl=');
  assert.equal(canonicalQuery('uploads&prefix=b&prefix=a&max-keys=2'), 'max-keys=2&prefix=a&prefix=b&uploads=');
  assert.equal(canonicalQuery('b=1&a=2&B=3'), 'B=3&a=2&b=1');
  assert.equal(canonicalQuery('prefix=a+b%2fc&x=%7E'), 'prefix=a%20b%2Fc&x=~');
  assert.equal(canonicalQuery('a=1&&b='), 'a=1&b=');
  assert.equal(canonicalQuery('X-Amz-Signature=abc&X-Amz-Date=1', 'X-Amz-Signature'), 'X-Amz-Date=1');
});

test('query parameters are decoded with + as a space and repeats kept in order', () => {
  assert.deepEqual(parseQuery('a=x+y&a=%2B&b'), [
    { name: 'a', value: 'x y' },
    { name: 'a', value: '+' },
    { name: 'b', value: '' },
  ]);
});

test('header values are trimmed and their inner runs of whitespace collapsed', () => {
  assert.equal(normalizeHeaderValue('  a   b \t c  '), 'a b c');
});

test('trailers are canonicalized as sorted lower-case name:value lines', () => {
  assert.equal(
    canonicalTrailers([
      ['X-Amz-Checksum-CRC32', ' abc= '],
      ['a-first', 'v'],
    ]),
    'a-first:v\nx-amz-checksum-crc32:abc=\n',
  );
});

test('amz dates parse only when they name a real instant', () => {
  assert.equal(parseAmzDate('20130524T000000Z'), Date.UTC(2013, 4, 24));
  assert.equal(formatAmzDate(Date.UTC(2013, 4, 24, 1, 2, 3)), '20130524T010203Z');
  for (const bad of ['20130532T000000Z', '20130524T250000Z', '20130524T000000', '2013-05-24T00:00:00Z'])
    assert.equal(parseAmzDate(bad), undefined);
});

test('a credential splits into key id and scope and rejects the wrong number of parts', () => {
  assert.deepEqual(parseCredential('AK/20130524/us-east-1/s3/aws4_request'), {
    accessKeyId: 'AK',
    date: '20130524',
    region: 'us-east-1',
    service: 's3',
    terminal: 'aws4_request',
    scope: '20130524/us-east-1/s3/aws4_request',
  });
  assert.equal(parseCredential('AK/20130524/us-east-1/s3'), undefined);
  assert.equal(parseCredential('AK//us-east-1/s3/aws4_request'), undefined);
});
