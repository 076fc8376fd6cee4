/**
 * Media on the local disk, under MEDIA_DIR (./data/media by default). Each write goes to a temporary file first
 * and is renamed into place, so a reader (or a crash) never sees half a file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertMediaKey, assertMessageId, type MediaStore } from './store.js';

export function createLocalMediaStore(dir: string): MediaStore {
  return {
    kind: 'local',
    async put(key, bytes) {
      assertMediaKey(key);
      const path = join(dir, key);
      await mkdir(join(path, '..'), { recursive: true });
      const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await writeFile(temporary, bytes);
        await rename(temporary, path);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    },
    async get(key) {
      assertMediaKey(key);
      try {
        return await readFile(join(dir, key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    async removeMessages(messageIds) {
      let removed = 0;
      for (const id of messageIds) {
        assertMessageId(id);
        const folder = join(dir, id);
        const files = await readdir(folder).catch((error: unknown) => {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
          throw error;
        });
        removed += files.filter((name) => !name.endsWith('.tmp')).length;
        await rm(folder, { recursive: true, force: true });
      }
      return removed;
    },
  };
}
