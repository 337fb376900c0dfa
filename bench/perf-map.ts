// V8's `--perf-basic-prof` appends a line to /tmp/perf-<pid>.map for every piece of code it makes (`<start> <size>
// <name>`, hex) and never takes one back: code freed by the garbage collector leaves its line, and code made later at
// the same addresses adds another. perf then names a sample in the new code after the old (a request path's samples
// read as the CommonJS lexer that ran at start-up). Rewriting the map so that each address keeps only its latest
// code's line, before `perf report` reads it, names what ran at the end, under load.
import { readFile, writeFile } from 'node:fs/promises';

interface MapEntry {
  start: bigint;
  end: bigint;
  line: string;
}

/** The map's lines with every line dropped that a later line's range overlaps; in address order. */
export function latestSymbols(map: string): string[] {
  const entries: MapEntry[] = [];
  for (const line of map.split('\n')) {
    const match = /^([0-9a-f]+) ([0-9a-f]+) /i.exec(line);
    if (!match) continue;
    const start = BigInt(`0x${match[1]}`);
    entries.push({ start, end: start + BigInt(`0x${match[2]}`), line });
  }
  // Newest first: a line is kept when no newer kept line overlaps it. `kept` stays sorted by start, and kept ranges
  // never overlap, so only the neighbours of the insertion point can.
  const kept: MapEntry[] = [];
  for (let index = entries.length - 1; index >= 0; index -= 1) {
    const entry = entries[index]!;
    let low = 0;
    let high = kept.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (kept[middle]!.start < entry.start) low = middle + 1;
      else high = middle;
    }
    const before = kept[low - 1];
    const after = kept[low];
    if ((before && before.end > entry.start) || (after && after.start < entry.end)) continue;
    kept.splice(low, 0, entry);
  }
  return kept.map(({ line }) => line);
}

/** Rewrites the perf map of the process `pid` (it must have exited) to its latest symbols; nothing if it has none. */
export async function keepLatestSymbols(pid: number): Promise<void> {
  const file = `/tmp/perf-${pid}.map`;
  let map: string;
  try {
    map = await readFile(file, 'utf8');
  } catch {
    return;
  }
  await writeFile(file, `${latestSymbols(map).join('\n')}\n`);
}
