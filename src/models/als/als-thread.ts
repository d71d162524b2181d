/**
 * One thread's share of an ALS fit: it claims chunks of the current phase from the shared
 * counter until none is left. The main thread runs the same code when the fit is not spread
 * over workers, so every thread count produces the same factors.
 */
import { AlsScratch, addGramLower, cgRows, exactRows, type AlsHalfStep } from '../../kernels/als-kernels.js';
import type { AlsWasmKernel } from '../../kernels/als-wasm.js';
import {
  alsViews,
  GRAM_CHUNK,
  NEXT_CHUNK,
  scratchBytes,
  type AlsLayout,
  type AlsPhase,
  type AlsViews,
} from './workspace.js';

export class AlsThread {
  private readonly v: AlsViews;
  private readonly scratch: AlsScratch;
  private readonly users: AlsHalfStep;
  private readonly items: AlsHalfStep;
  private readonly scratchOffset: number;

  constructor(
    buffer: ArrayBufferLike,
    private readonly layout: AlsLayout,
    thread: number,
    private readonly wasm: AlsWasmKernel | null,
  ) {
    const v = alsViews(buffer, layout);
    this.v = v;
    this.scratch = new AlsScratch(layout.k);
    const { k, stride } = layout;
    const uniform = layout.uniformExtra;
    const uniformExtra = uniform ?? 0;
    this.users = {
      rows: {
        indptr: v.userIndptr,
        indices: v.userIndices,
        extra: uniform === null ? v.userExtra : null,
        uniformExtra,
      },
      fixed: v.itemFactors,
      gram: v.gram,
      solved: v.userFactors,
      k,
      stride,
    };
    this.items = {
      rows: {
        indptr: v.itemIndptr,
        indices: v.itemIndices,
        extra: uniform === null ? v.itemExtra : null,
        uniformExtra,
      },
      fixed: v.userFactors,
      gram: v.gram,
      solved: v.itemFactors,
      k,
      stride,
    };
    this.scratchOffset = layout.off.scratch + thread * scratchBytes(stride);
  }

  /** Works on the phase until every chunk is claimed. */
  run(phase: AlsPhase): void {
    const control = this.v.control;
    switch (phase) {
      case 'gram-users':
      case 'gram-items': {
        const users = phase === 'gram-users';
        const rows = users ? this.layout.users : this.layout.items;
        const chunks = users ? this.layout.userGramChunks : this.layout.itemGramChunks;
        for (
          let c = Atomics.add(control, NEXT_CHUNK, 1);
          c < chunks;
          c = Atomics.add(control, NEXT_CHUNK, 1)
        ) {
          this.gramChunk(users, c * GRAM_CHUNK, Math.min(rows, (c + 1) * GRAM_CHUNK), c);
        }
        return;
      }
      case 'solve-users':
      case 'solve-items': {
        const users = phase === 'solve-users';
        const bounds = users ? this.v.userBounds : this.v.itemBounds;
        const chunks = bounds.length - 1;
        for (
          let c = Atomics.add(control, NEXT_CHUNK, 1);
          c < chunks;
          c = Atomics.add(control, NEXT_CHUNK, 1)
        ) {
          this.solve(users, bounds[c], bounds[c + 1]);
        }
        return;
      }
    }
  }

  private gramChunk(users: boolean, from: number, to: number, chunk: number): void {
    const { k, stride, off } = this.layout;
    const k2 = k * k;
    const partials = this.v.partials;
    if (this.wasm) {
      const factors = users ? off.userFactors : off.itemFactors;
      this.wasm.gramLower(factors, stride, k, from, to, off.partials + chunk * k2 * 8, this.scratchOffset);
      return;
    }
    partials.fill(0, chunk * k2, (chunk + 1) * k2);
    const factors = users ? this.v.userFactors : this.v.itemFactors;
    addGramLower(factors, stride, k, from, to, partials, chunk * k2);
  }

  private solve(users: boolean, from: number, to: number): void {
    const l = this.layout;
    const h = users ? this.users : this.items;
    if (l.solver === 'exact') {
      exactRows(h, from, to, this.scratch);
      return;
    }
    if (this.wasm) {
      const off = l.off;
      this.wasm.cgRows(
        users ? off.userIndptr : off.itemIndptr,
        users ? off.userIndices : off.itemIndices,
        l.uniformExtra !== null ? 0 : users ? off.userExtra : off.itemExtra,
        l.uniformExtra ?? 0,
        users ? off.itemFactors : off.userFactors,
        off.gram32,
        users ? off.userFactors : off.itemFactors,
        l.k,
        l.stride,
        from,
        to,
        l.cgSteps,
        this.scratchOffset,
      );
      return;
    }
    cgRows(h, from, to, l.cgSteps, this.scratch);
  }
}
