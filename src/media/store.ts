/**
 * Where downloaded and generated media live (issue #15): a directory on disk (MEDIA_DIR, the default) or any
 * S3-compatible bucket (S3_*). Keys are `<message id>/<index>`, so everything of a message goes with one prefix
 * when the message is erased or ages out (pipeline/media-erasure.ts). The content type is not kept here: the
 * message's payload records it beside the key.
 */
export interface MediaStore {
  readonly kind: 'local' | 's3';
  /** Store `bytes` under `key`, replacing what was there (a retried download writes the same key). */
  put(key: string, bytes: Uint8Array, contentType: string): Promise<void>;
  /** The bytes under `key`, or null when there are none. */
  get(key: string): Promise<Buffer | null>;
  /** Delete every object of these messages; returns how many went. Deleting what is not there is not an error. */
  removeMessages(messageIds: readonly string[]): Promise<number>;
}

/** The key of a message's `index`-th media item. */
export function mediaKey(messageId: string, index: number): string {
  return `${messageId}/${index}`;
}

/** Keys come from our own ids; anything else (a path, `..`) is refused before it reaches a file system or bucket. */
export function assertMediaKey(key: string): void {
  if (!/^[0-9a-zA-Z-]{1,64}\/\d{1,4}$/.test(key)) throw new Error(`not a media key: ${JSON.stringify(key)}`);
}

export function assertMessageId(id: string): void {
  if (!/^[0-9a-zA-Z-]{1,64}$/.test(id)) throw new Error(`not a message id: ${JSON.stringify(id)}`);
}
