// The assembler's FileProvider over the real file system (the engine itself does no I/O).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { FileProvider } from '../engine/isa/assembler';

export function nodeFileProvider(): FileProvider {
  return {
    read(path: string): string | undefined {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    resolve(fromFile: string, include: string): string {
      return resolve(dirname(fromFile), include);
    },
  };
}
