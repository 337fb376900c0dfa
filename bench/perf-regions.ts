// Inclusive CPU time per request under named regions of code, from the call graphs of a `perf record -g` recording:
// a sample counts for a region when any frame of its stack is in that region, wherever its leaf is. The flat report
// (perf-diff.ts) gives each function's own time; V8 inlines our guard's `canActivate` into Nest's `tryActivate` and
// the parameter's helpers into its factory, so only the time under a frame that survives inlining says what a guard
// or a parameter costs in all, with the builtins, the clock and the garbage it leads to.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Region {
  /** What the report calls it. */
  label: string;
  /** Matches a frame's symbol (`JS:*name file:line:column` for JIT code) anywhere in the stack. */
  frame: RegExp;
}

export interface RegionTime {
  label: string;
  /** µs per request in the region, inclusive. */
  micros: number;
  /** The region's largest leaves (the function a sample was in), µs per request. */
  leaves: Array<{ name: string; micros: number }>;
}

/** µs of CPU per request that `samples` perf samples stand for, at `samplesPerSec` over `requests` requests. */
export function microsPerRequest(samples: number, samplesPerSec: number, requests: number): number {
  return (samples * 1e6) / samplesPerSec / requests;
}

/** Sums samples under each region, fed `perf script -F ip,sym` line by line. */
export class RegionTally {
  private readonly samples: Array<{ total: number; leaves: Map<string, number> }>;
  private stack: string[] = [];

  constructor(private readonly regions: readonly Region[]) {
    this.samples = regions.map(() => ({ total: 0, leaves: new Map<string, number>() }));
  }

  /** One sample is its frames, leaf first, one per line (`<address> <symbol>`), and a blank line after it. */
  addLine(line: string): void {
    const frame = line.trim();
    if (frame === '') this.endSample();
    else this.stack.push(frame.slice(frame.indexOf(' ') + 1).replace(/\+0x[0-9a-f]+$/, ''));
  }

  /** µs per request in each region, and its largest leaves. */
  times(requests: number, samplesPerSec: number, leavesPerRegion = 8): RegionTime[] {
    this.endSample();
    const perRequest = (count: number) => microsPerRequest(count, samplesPerSec, requests);
    return this.regions.map(({ label }, index) => {
      const { total, leaves } = this.samples[index]!;
      const largest = [...leaves].sort((a, b) => b[1] - a[1]).slice(0, leavesPerRegion);
      return { label, micros: perRequest(total), leaves: largest.map(([name, count]) => ({ name, micros: perRequest(count) })) };
    });
  }

  private endSample(): void {
    const stack = this.stack;
    if (stack.length === 0) return;
    this.stack = [];
    this.regions.forEach((region, index) => {
      if (!stack.some((symbol) => region.frame.test(symbol))) return;
      const tally = this.samples[index]!;
      tally.total += 1;
      tally.leaves.set(stack[0]!, (tally.leaves.get(stack[0]!) ?? 0) + 1);
    });
  }
}

/** Reads `perf script` of `file` (samples with their call chains) and sums the samples under each region. */
export async function regionTimes(file: string, regions: readonly Region[], requests: number, samplesPerSec: number): Promise<RegionTime[]> {
  const tally = new RegionTally(regions);
  const script = spawn('perf', ['script', '-i', file, '-F', 'ip,sym'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise<number | null>((resolve) => script.once('exit', resolve));
  for await (const line of createInterface({ input: script.stdout })) tally.addLine(line);
  const status = await exited;
  if (status !== 0) throw new Error(`perf script -i ${file} failed (exit ${status})`);
  return tally.times(requests, samplesPerSec);
}
