// The overcommit experiments (issue 6 item 7; docs/overcommit/experiments.md), by id.
import type { ExperimentSize, ExperimentTable, ProgramLoader } from './experimentTypes';
import { identicalVmsExperiment } from './identicalVms';
import { idleTaxExperiment } from './idleTax';
import { balloonVsSwapExperiment } from './balloonVsSwap';
import { doublePagingExperiment } from './doublePaging';

export type { Cell, Column, ExperimentSize, ExperimentTable, ProgramLoader } from './experimentTypes';
export { formatExperiment } from './formatTable';

export const EXPERIMENT_IDS = ['a', 'b', 'c', 'd'] as const;
export type ExperimentId = (typeof EXPERIMENT_IDS)[number];

export const EXPERIMENTS: Record<ExperimentId, (load: ProgramLoader, size?: ExperimentSize) => ExperimentTable> = {
  a: identicalVmsExperiment,
  b: idleTaxExperiment,
  c: balloonVsSwapExperiment,
  d: doublePagingExperiment,
};
