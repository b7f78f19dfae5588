import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { waitFor } from '../support/wait.js';

// What proves a <video> element in the console plays: shared by the live view and clip tests.

export type VideoLike = { currentTime: number; videoWidth: number; videoHeight: number; error: unknown };
/** Just the DOM this test touches in the page (the test's TypeScript has no DOM library). */
type PageGlobals = {
  document: {
    createElement(tag: 'canvas'): {
      width: number;
      height: number;
      getContext(kind: '2d'): {
        drawImage(source: unknown, x: number, y: number): void;
        getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
      };
    };
  };
};

/** In the page: the frame on screen drawn to a canvas; the spread of its luma over a sample of pixels. */
export function frameCheck(v: VideoLike) {
  const canvas = (globalThis as unknown as PageGlobals).document.createElement('canvas');
  canvas.width = v.videoWidth;
  canvas.height = v.videoHeight;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(v, 0, 0);
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let min = 255;
  let max = 0;
  for (let i = 0; i < data.length; i += 4 * 97) {
    const luma = (data[i]! + data[i + 1]! + data[i + 2]!) / 3;
    min = Math.min(min, luma);
    max = Math.max(max, luma);
  }
  return { width: v.videoWidth, height: v.videoHeight, spread: max - min };
}

/**
 * Proof of a decoded, moving picture in `selector`'s <video>: its time advances, and a frame drawn to a canvas is not
 * one uniform colour.
 */
export async function assertPlaying(page: Page, selector: string) {
  const video = page.locator(selector);
  await video.waitFor({ state: 'attached', timeout: 20_000 });
  const t0 = await waitFor(async () => video.evaluate((v: VideoLike) => (v.currentTime > 0 ? v.currentTime : 0)), {
    timeoutMs: 20_000,
    what: `${selector} to start playing`,
  });
  await waitFor(async () => (await video.evaluate((v: VideoLike) => v.currentTime)) > t0 + 1, {
    timeoutMs: 10_000,
    what: `${selector}'s time to advance`,
  });
  const frame = await video.evaluate(frameCheck as (v: unknown) => ReturnType<typeof frameCheck>);
  // No error state: a MediaError (decode, network, format) would be on the element.
  expect(await video.evaluate((v: VideoLike) => v.error === null)).toBe(true);
  expect(frame.width).toBeGreaterThan(0);
  expect(frame.height).toBeGreaterThan(0);
  // The simulator's colour bars: a blank (black or grey) frame would have no spread at all.
  expect(frame.spread).toBeGreaterThan(50);
}
