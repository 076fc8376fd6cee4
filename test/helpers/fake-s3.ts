/**
 * A small S3-compatible server on 127.0.0.1 for the media store's tests: path-style PutObject, GetObject,
 * ListObjectsV2 (paged), DeleteObjects, with S3's XML bodies and error shapes. Every request must carry a valid
 * AWS Signature Version 4 for the configured key pair (checked here the way S3 checks it), so the real SDK is
 * exercised end to end, signing included.
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeS3 {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  objects: Map<string, { body: Buffer; contentType: string }>;
  /** Requests as `METHOD path?query`, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startFakeS3(options: { listPageSize?: number } = {}): Promise<FakeS3> {
  const bucket = 'media-test';
  const accessKeyId = 'AKIAFAKE00000000TEST';
  const secretAccessKey = 'fake-secret-key-for-tests-only';
  const objects = new Map<string, { body: Buffer; contentType: string }>();
  const requests: string[] = [];
  const pageSize = options.listPageSize ?? 1000;

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(request.url ?? '/', 'http://localhost');
      requests.push(`${request.method ?? ''} ${url.pathname}${url.search}`);
      const signatureProblem = checkSignature(request, url, body, accessKeyId, secretAccessKey);
      if (signatureProblem) return xmlError(response, 403, 'SignatureDoesNotMatch', signatureProblem);
      const [, bucketName, ...keyParts] = url.pathname.split('/');
      if (bucketName !== bucket) return xmlError(response, 404, 'NoSuchBucket', 'The bucket does not exist');
      const key = keyParts.map(decodeURIComponent).join('/');

      if (request.method === 'PUT' && key) {
        objects.set(key, {
          body,
          contentType: request.headers['content-type'] ?? 'application/octet-stream',
        });
        response.writeHead(200, { ETag: `"${createHash('md5').update(body).digest('hex')}"` });
        return response.end();
      }
      if (request.method === 'GET' && key) {
        const object = objects.get(key);
        if (!object) return xmlError(response, 404, 'NoSuchKey', 'The specified key does not exist.');
        response.writeHead(200, { 'Content-Type': object.contentType, 'Content-Length': object.body.length });
        return response.end(object.body);
      }
      if (request.method === 'GET' && url.searchParams.get('list-type') === '2') {
        const prefix = url.searchParams.get('prefix') ?? '';
        const all = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
        const start = Number(url.searchParams.get('continuation-token') ?? 0);
        const page = all.slice(start, start + pageSize);
        const truncated = start + pageSize < all.length;
        return xml(
          response,
          200,
          `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name>` +
            `<Prefix>${prefix}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${pageSize}</MaxKeys>` +
            `<IsTruncated>${truncated}</IsTruncated>` +
            (truncated ? `<NextContinuationToken>${start + pageSize}</NextContinuationToken>` : '') +
            page
              .map(
                (k) => `<Contents><Key>${k}</Key><Size>${objects.get(k)?.body.length ?? 0}</Size></Contents>`,
              )
              .join('') +
            `</ListBucketResult>`,
        );
      }
      if (request.method === 'POST' && url.searchParams.has('delete')) {
        // S3 refuses a DeleteObjects without an integrity header.
        const checksummed = Object.keys(request.headers).some(
          (name) => name === 'content-md5' || name.startsWith('x-amz-checksum-'),
        );
        if (!checksummed)
          return xmlError(
            response,
            400,
            'InvalidRequest',
            'Missing required header for this request: Content-MD5',
          );
        for (const match of body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g))
          objects.delete(match[1] ?? '');
        return xml(
          response,
          200,
          '<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>',
        );
      }
      xmlError(response, 405, 'MethodNotAllowed', 'Not supported by the fake');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bucket,
    accessKeyId,
    secretAccessKey,
    objects,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function xml(response: http.ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'Content-Type': 'application/xml' });
  response.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

function xmlError(response: http.ServerResponse, status: number, code: string, message: string): void {
  xml(
    response,
    status,
    `<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fake</RequestId></Error>`,
  );
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** AWS Signature Version 4 as S3 verifies it; a description of what is wrong, or null when it is right. */
function checkSignature(
  request: http.IncomingMessage,
  url: URL,
  body: Buffer,
  accessKeyId: string,
  secretAccessKey: string,
): string | null {
  const authorization = request.headers.authorization ?? '';
  const parsed =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (!parsed) return 'no AWS4-HMAC-SHA256 authorization';
  const [, keyId, date, region, signedHeaders, signature] = parsed as unknown as string[];
  if (keyId !== accessKeyId) return 'unknown access key';
  const payloadHash = String(request.headers['x-amz-content-sha256'] ?? '');
  if (payloadHash !== 'UNSIGNED-PAYLOAD' && payloadHash !== createHash('sha256').update(body).digest('hex'))
    return 'payload hash does not match the body';
  const query = [...url.searchParams.entries()]
    .map(([name, value]) => [encode(name), encode(value)])
    .sort(([a = '', x = ''], [b = '', y = '']) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const headers = (signedHeaders as string)
    .split(';')
    .map(
      (name) =>
        `${name}:${String(request.headers[name] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const canonical = [request.method, url.pathname, query, headers, signedHeaders, payloadHash].join('\n');
  const stamp = String(request.headers['x-amz-date'] ?? '');
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = [
    'AWS4-HMAC-SHA256',
    stamp,
    scope,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  let key = hmac(`AWS4${secretAccessKey}`, date as string);
  for (const part of [region as string, 's3', 'aws4_request']) key = hmac(key, part);
  return hmac(key, toSign).toString('hex') === signature ? null : 'signature does not match';
}

function encode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
