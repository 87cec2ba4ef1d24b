// The host's balloon targets over time written as text — `0:300 1.5:100` (seconds:pages, by
// spaces or commas) — the form an example's `; balloon-target:` line and `vmem run
// --balloon-target` share, so both mean the same thing.
import type { TargetStep } from './balloonDevice';

/** The steps of a schedule; throws an Error saying what was expected. */
export function parseTargetSchedule(text: string): TargetStep[] {
  const items = text.trim().split(/[\s,]+/).filter((s) => s !== '');
  if (items.length === 0) throw new Error('a balloon target schedule needs at least one SECONDS:PAGES step, e.g. 0:300');
  return items.map((item) => {
    const d = /^(\d+(?:\.\d+)?):(\d+)$/.exec(item);
    if (!d) throw new Error(`a balloon target step is SECONDS:PAGES (e.g. 1.5:100), not '${item}'`);
    return { at: Number(d[1]), pages: Number(d[2]) };
  });
}
