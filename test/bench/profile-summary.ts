/**
 * `npx tsx test/bench/profile-summary.ts <file.cpuprofile> [top]`: where a V8 CPU profile (node --cpu-prof) spent
 * its time, by function (self time) and by package/file (self time summed), so bottlenecks are read, not guessed.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

export function summarise(profile: CpuProfile, top = 25) {
  const totalHits = profile.samples.length;
  const msPerHit = (profile.endTime - profile.startTime) / 1000 / Math.max(1, totalHits);
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (!hits) continue;
    const url = n.callFrame.url.replace(/^file:\/\//, '');
    const where = url
      ? `${url.replace(/^.*\/node_modules\//, '~/').replace(/^.*\/(hub|shared)\/src\//, '$1/')}:${n.callFrame.lineNumber + 1}`
      : '';
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + hits);
    const area = !url
      ? n.callFrame.functionName.startsWith('(')
        ? n.callFrame.functionName
        : '(native)'
      : url.includes('/node_modules/')
        ? (/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? 'node_modules')
        : url.startsWith('node:')
          ? 'node internals'
          : (/\/(hub|shared|edge-agent)\/src\/([^/]+)/.exec(url)?.slice(1, 3).join('/') ?? url);
    byArea.set(area, (byArea.get(area) ?? 0) + hits);
  }
  const rank = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, hits]) => ({
        name,
        pct: Number(((100 * hits) / totalHits).toFixed(1)),
        ms: Math.round(hits * msPerHit),
      }));
  return { seconds: (profile.endTime - profile.startTime) / 1e6, byArea: rank(byArea), byFunction: rank(byFunction) };
}

if (process.argv[1]?.endsWith('profile-summary.ts')) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: npx tsx test/bench/profile-summary.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(process.argv[3] ?? 25));
  process.stdout.write(`${s.seconds.toFixed(1)} s profiled\n\nby area (self time):\n`);
  for (const a of s.byArea) process.stdout.write(`  ${String(a.pct).padStart(5)} %  ${a.name}\n`);
  process.stdout.write('\nby function (self time):\n');
  for (const f of s.byFunction) process.stdout.write(`  ${String(f.pct).padStart(5)} %  ${f.name}\n`);
}
