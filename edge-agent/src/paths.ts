import { fileURLToPath } from 'node:url';

// Resolved from a module directly in src/, which the release bundle keeps one level below the package folder too
// (edge-agent/dist/main.js): the same path in the sources and in the bundle (scripts/build.ts).
/** What fluent-ffmpeg starts in place of ffmpeg, to make it lead a process group (media/ffmpeg.ts). */
export const FFMPEG_GROUP_LEADER = fileURLToPath(new URL('../bin/ffmpeg-group-leader', import.meta.url));
