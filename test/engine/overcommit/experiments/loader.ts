// The experiments' guests, assembled from the repository's examples/overcommit.
import { assembleExample } from '../../../support/runAsm';
import type { ProgramLoader } from '../../../../src/engine/memory/overcommit/experiments';

export const loadOvercommitExample: ProgramLoader = (file, defines) => assembleExample(`overcommit/${file}`, defines);
