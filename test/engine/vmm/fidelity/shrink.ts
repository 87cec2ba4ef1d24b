// A simple delta-debugging loop (Zeller's ddmin, minus the subset step): drop chunks of
// operations while the program still shows the failure, halving the chunk size when no chunk
// can go, down to single operations.

export function shrink<T>(items: readonly T[], stillFails: (items: readonly T[]) => boolean, maxTries = 300): T[] {
  let cur = [...items];
  let tries = 0;
  let n = 2;
  while (cur.length > 0 && tries < maxTries) {
    const chunk = Math.ceil(cur.length / n);
    let removed = false;
    for (let start = 0; start < cur.length && tries < maxTries; start += chunk) {
      const candidate = [...cur.slice(0, start), ...cur.slice(start + chunk)];
      tries++;
      if (stillFails(candidate)) {
        cur = candidate;
        n = Math.max(n - 1, 2);
        removed = true;
        break;
      }
    }
    if (!removed) {
      if (chunk === 1) break;
      n = Math.min(cur.length, n * 2);
    }
  }
  return cur;
}
