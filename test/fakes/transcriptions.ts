/**
 * OpenAI's `POST /v1/audio/transcriptions` as the fake LLM serves it (wire facts §6.1): a multipart body with the
 * `file` part and `model`, read byte-exact; the answer is whisper-1's JSON, `{"text": …, "usage": {"type":
 * "duration", "seconds": …}}`.
 */
import type http from 'node:http';

export interface FakeTranscription {
  model: string;
  fileName: string;
  fileType: string;
  bytes: Buffer;
  authorization: string | undefined;
}

export interface TranscriptionAnswer {
  text: string;
  seconds: number;
  /** Answer with this HTTP status and OpenAI's error envelope instead (503: overloaded, retried by the worker). */
  status?: number;
}

interface Part {
  fileName: string | undefined;
  type: string | undefined;
  body: Buffer;
}

/** A multipart/form-data body's parts by name, read byte-exact as a server does. */
export function multipartParts(contentType: string, body: Buffer): Map<string, Part> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const delimiter = Buffer.from(`--${boundary?.[1] ?? boundary?.[2] ?? ''}`);
  const parts = new Map<string, Part>();
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next === -1) break;
    const part = body.subarray(start + delimiter.length + 2, next - 2); // the CRLF after and before
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString();
    const name = /name="([^"]*)"/.exec(headers)?.[1];
    if (name)
      parts.set(name, {
        fileName: /filename="([^"]*)"/.exec(headers)?.[1],
        type: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim(),
        body: part.subarray(headerEnd + 4),
      });
    start = next;
  }
  return parts;
}

export async function serveTranscription(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  recorded: FakeTranscription[],
  answer: TranscriptionAnswer,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const parts = multipartParts(req.headers['content-type'] ?? '', Buffer.concat(chunks));
  const file = parts.get('file');
  const model = parts.get('model')?.body.toString() ?? '';
  if (!file || model === '') {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        error: { message: "Missing required parameter: 'file'.", type: 'invalid_request_error' },
      }),
    );
    return;
  }
  if (answer.status !== undefined && answer.status >= 400) {
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'The server is overloaded.', type: 'server_error' } }));
    return;
  }
  recorded.push({
    model,
    fileName: file.fileName ?? '',
    fileType: file.type ?? '',
    bytes: file.body,
    authorization: req.headers.authorization,
  });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ text: answer.text, usage: { type: 'duration', seconds: answer.seconds } }));
}
