// "did you mean ...": the nearest candidate by edit distance, if it is near enough to be a typo.

export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const score = editDistance(w, c.toLowerCase());
    if (score < bestScore) { best = c; bestScore = score; }
  }
  // A typo is at most a third of the word (and at least one edit for short words).
  return best !== undefined && bestScore <= Math.max(1, Math.floor(Math.max(w.length, best.length) / 3)) ? best : undefined;
}
