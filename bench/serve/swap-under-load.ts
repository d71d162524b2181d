/**
 * A hot swap under load: open-loop requests at a steady rate while the serving version of the
 * personal model is promoted again, which makes every worker reload it and rebuild its index.
 */
import { runBoundedOpenLoop, type BoundedOpenLoopResult } from './bounded-open-loop.js';

export interface SwapUnderLoad {
  load: BoundedOpenLoopResult;
  /** How long the promote call took (every worker swapped when it answers). */
  swapSeconds: number;
}

export async function swapUnderLoad(
  url: string,
  model: string,
  rate: number,
  seconds: number,
  path: (i: number) => string,
): Promise<SwapUnderLoad> {
  const versions = (await (await fetch(`${url}/models/versions?name=${model}`)).json()) as {
    versions: { version: string; serving: boolean }[];
  };
  const serving = versions.versions.find((v) => v.serving);
  if (!serving) throw new Error(`no serving version of ${model}`);
  const load = runBoundedOpenLoop({ url, rate, durationSeconds: seconds, path, giveUpMs: 5000 });
  await new Promise((r) => setTimeout(r, 1000));
  const t = performance.now();
  const res = await fetch(`${url}/models/${model}/promote`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ version: serving.version }),
  });
  if (!res.ok) throw new Error(`promote answered ${res.status}: ${await res.text()}`);
  const swapSeconds = (performance.now() - t) / 1000;
  return { load: await load, swapSeconds };
}
