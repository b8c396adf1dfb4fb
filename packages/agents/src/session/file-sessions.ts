import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidInputError } from '@gatehouse/core';
import type { SessionState, SessionStore } from './index.js';

const safeId = /^[a-zA-Z0-9_.:-]{1,200}$/;

/**
 * Sessions as JSON files in `dir`, for local development. Each save writes a temporary file, flushes it
 * and renames it over the session's file, so a crash mid-write leaves the previous checkpoint intact.
 */
export function fileSessions(dir: string): SessionStore {
  let made: Promise<unknown> | undefined;
  const path = (id: string) => {
    if (!safeId.test(id) || id.startsWith('.')) {
      throw new InvalidInputError({ message: `session id ${JSON.stringify(id)} is not usable as a file name` });
    }
    return join(dir, `${id}.json`);
  };
  return {
    async load(id) {
      try {
        return JSON.parse(await readFile(path(id), 'utf8')) as SessionState;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async save(state) {
      const target = path(state.id);
      await (made ??= mkdir(dir, { recursive: true }));
      const temporary = `${target}.${randomUUID()}.tmp`;
      await writeFile(temporary, JSON.stringify(state), { flush: true });
      await rename(temporary, target);
    },
    async delete(id) {
      try {
        await rm(path(id));
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
    },
  };
}
