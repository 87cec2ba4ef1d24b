// The assembler's FileProvider over the real file system, for the CLI (the engine never
// imports node I/O itself).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FileProvider } from '../engine/isa/assembler';

export function nodeFileProvider(): FileProvider {
  return {
    read(file: string): string | undefined {
      try {
        return fs.readFileSync(file, 'utf8');
      } catch {
        return undefined;
      }
    },
    resolve(fromFile: string, include: string): string {
      return path.resolve(path.dirname(fromFile), include);
    },
  };
}
