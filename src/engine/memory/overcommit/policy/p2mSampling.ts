// The working-set sampler's port over a real p2m: resident = has a machine frame (private or
// shared); invalidating = P2m.sample, which drops the mode's mappings (P2mMapper.revoke 'none')
// and flags the page so its next touch reports through P2mObserver.sampledTouch — which the
// machine forwards to MemScheduler.touched(vmId, ppn).
import type { P2m } from '../../../vmm/p2m';
import type { SamplingPort } from './workingSet';

export function p2mSamplingPort(p2m: P2m): SamplingPort {
  return {
    pages: p2m.pages,
    isResident: (ppn) => {
      const s = p2m.stateOf(ppn);
      return s === 'private' || s === 'shared';
    },
    invalidate: (ppn) => p2m.sample(ppn),
  };
}
