/**
 * WARP: matrix factorisation trained with the Weighted Approximate-Rank Pairwise loss, as in
 * LightFM (see src/kernels/warp-sgd.ts): every positive is visited once per epoch, negatives
 * are drawn until one violates the margin, and the step is scaled by the log of the rank
 * estimate; per-parameter learning rates by AdaGrad (default) or Adadelta; optional item
 * biases. Each positive's sample weight comes from its summed strength through `weighting`
 * (normalised to mean 1).
 *
 * Training runs the WebAssembly SIMD loop (src/models/bpr/wasm/ranking-kernel.as) with AdaGrad,
 * and the portable kernel for Adadelta or where WebAssembly SIMD is missing; both take the same
 * steps with the same draws, in float32 and float64 arithmetic respectively, so their fits
 * differ slightly. Defaults (50 epochs, η 0.02, 10 draws, log1p weights) favour
 * generalisation over LightFM's (η 0.05); settings search covers the rest.
 *
 * With `threads` > 1 the users are split into shares of about equal positives, one per worker
 * thread, and the workers update shared arrays without locks (Hogwild): such fits differ
 * slightly from run to run. With one thread a fit is bitwise reproducible for its `seed`.
 *
 * Fold-in (users unknown to the model, ctx.userIndex -1): `foldInEpochs × |distinct history|`
 * WARP steps (positives drawn uniformly from the distinct history) on a fresh user vector
 * starting at zero with fresh AdaGrad state and step `foldInLearningRate`, item factors and
 * biases fixed, with a fixed seed, so the vector depends only on the history items and weights.
 *
 * Fold-in of items unknown to the model (foldInItem): `foldInEpochs` passes of WARP steps with
 * AdaGrad at `foldInLearningRate` on a fresh item bias and vector with the user and other item
 * vectors fixed (item-fold-in.ts).
 */
import type { ValueTransform } from '../../data/csr-build.js';
import type { InteractionData } from '../../data/interactions.js';
import type { FactorArrays } from '../../kernels/bpr-common.js';
import { warpFoldIn, type WarpOptimizer, type WarpSettings } from '../../kernels/warp-sgd.js';
import type { Artifact } from '../artifact.js';
import { fittedInfo, secondsSince } from '../model-kit.js';
import type { ModelInfo } from '../model.js';
import { ParamReader, type Params } from '../params.js';
import {
  factorArraysFromArtifact,
  historySampleWeights,
  RankingFactorModel,
  placeFit,
} from './factor-model.js';
import { negativesPerPass, warpItemFoldIn, type ItemUsers } from './item-fold-in.js';
import { planWarp, trainHere, trainOnWorkers, type TrainingPlan } from './train.js';

export interface WarpParams extends WarpSettings {
  factors: number;
  /** Sample weight of a positive from its summed strength (normalised to mean 1). */
  weighting: ValueTransform;
  seed: number;
  /** Worker threads; 0 picks by problem size and available cores. */
  threads: number;
  /** Fold-in passes over a new user's distinct history. */
  foldInEpochs: number;
  /** AdaGrad step of the fold-in (default: learningRate). */
  foldInLearningRate: number;
}

/** Assumed mean negative draws per positive, for sizing the work of a fit. */
const ASSUMED_DRAWS = 10;

export class WarpModel extends RankingFactorModel {
  static readonly modelName = 'warp';

  /** Settings worth trying on a validation split. */
  static readonly searchSpace = {
    epochs: [50, 80, 120],
    learningRate: [0.01, 0.02, 0.03],
    maxSampled: [5, 10, 30],
    regularization: [0, 0.001, 0.003],
    weighting: ['binary', 'log1p', 'identity'],
  } as const satisfies Record<string, readonly (number | string | boolean)[]>;

  private readonly foldGrad: Float32Array;

  private constructor(
    info: ModelInfo,
    itemIds: readonly string[],
    arrays: FactorArrays,
    private readonly params: WarpParams,
  ) {
    super(info, itemIds, arrays);
    this.foldGrad = new Float32Array(arrays.factors);
  }

  static resolveParams(raw?: Params): WarpParams {
    const r = new ParamReader(WarpModel.modelName, raw);
    const learningRate = r.number('learningRate', 0.02, { min: 0, max: 10 });
    const params: WarpParams = {
      factors: r.number('factors', 64, { min: 1, max: 1024, integer: true }),
      epochs: r.number('epochs', 50, { min: 0, max: 10_000, integer: true }),
      learningRate,
      optimizer: r.choice<WarpOptimizer>('optimizer', 'adagrad', ['adagrad', 'adadelta']),
      rho: r.number('rho', 0.95, { min: 0, max: 1 }),
      epsilon: r.number('epsilon', 1e-6, { min: 0, max: 1 }),
      maxSampled: r.number('maxSampled', 10, { min: 1, max: 100_000, integer: true }),
      maxLoss: r.number('maxLoss', 10, { min: 0 }),
      regularization: r.number('regularization', 0, { min: 0, max: 10 }),
      biasRegularization: r.number('biasRegularization', 0, { min: 0, max: 10 }),
      itemBias: r.boolean('itemBias', true),
      weighting: r.choice<ValueTransform>('weighting', 'log1p', ['identity', 'binary', 'log1p']),
      seed: r.number('seed', 1, { min: 0, max: 2 ** 32 - 1, integer: true }),
      threads: r.number('threads', 0, { min: 0, max: 256, integer: true }),
      foldInEpochs: r.number('foldInEpochs', 20, { min: 0, max: 10_000, integer: true }),
      foldInLearningRate: r.number('foldInLearningRate', learningRate, { min: 0, max: 10 }),
    };
    r.done();
    return params;
  }

  /** Fits on the calling thread (bitwise reproducible for the seed). */
  static fit(data: InteractionData, raw?: Params): WarpModel {
    const start = performance.now();
    const params = WarpModel.resolveParams(raw);
    const arrays = trainHere(warpPlan(data, params, 1, false));
    return WarpModel.fitted(data, params, arrays, start);
  }

  /**
   * Fits on `threads` worker threads; with `threads` 0 small fits run on the calling thread,
   * medium ones on one worker and large ones on all cores. One thread gives the same result as
   * `fit`.
   */
  static async fitAsync(data: InteractionData, raw?: Params): Promise<WarpModel> {
    const start = performance.now();
    const params = WarpModel.resolveParams(raw);
    const nnz = data.matrix.indptr[data.matrix.rows];
    const place = placeFit(
      params.threads,
      params.epochs * nnz * params.factors * (Math.min(params.maxSampled, ASSUMED_DRAWS) + 6),
    );
    const plan = warpPlan(data, params, place.threads, !place.inline);
    const arrays = place.inline ? trainHere(plan) : await trainOnWorkers(plan);
    return WarpModel.fitted(data, params, arrays, start);
  }

  private static fitted(
    data: InteractionData,
    params: WarpParams,
    arrays: FactorArrays,
    start: number,
  ): WarpModel {
    const info = fittedInfo(WarpModel.modelName, { ...params }, data, secondsSince(start));
    return new WarpModel(info, data.items.ids.slice(), arrays, params);
  }

  static fromArtifact(artifact: Artifact): WarpModel {
    const arrays = factorArraysFromArtifact(artifact, WarpModel.modelName);
    const { info, itemIds } = artifact.header;
    return new WarpModel(info, itemIds, arrays, WarpModel.resolveParams(info.params));
  }

  protected foldInDistinct(items: Int32Array, weights: Float32Array, count: number, out: Float32Array): void {
    const p = this.params;
    historySampleWeights(weights, count, p.weighting);
    warpFoldIn(
      this.arrays,
      items,
      weights,
      count,
      p,
      p.foldInEpochs,
      p.foldInLearningRate,
      p.seed,
      this.foldGrad,
      out,
    );
  }

  protected foldInItemDistinct(it: ItemUsers, out: Float32Array): void {
    const p = this.params;
    historySampleWeights(it.weights, it.count, p.weighting);
    const schedule = {
      epochs: p.foldInEpochs,
      negativesPerPass: negativesPerPass(this.info.interactions, this.arrays.items, false, it.count),
      seed: p.seed,
    };
    warpItemFoldIn(this.arrays, it, warpSettings(p), p.foldInLearningRate, schedule, out);
  }
}

function warpSettings(p: WarpParams): WarpSettings {
  return {
    epochs: p.epochs,
    learningRate: p.learningRate,
    optimizer: p.optimizer,
    rho: p.rho,
    epsilon: p.epsilon,
    maxSampled: p.maxSampled,
    maxLoss: p.maxLoss,
    regularization: p.regularization,
    biasRegularization: p.biasRegularization,
    itemBias: p.itemBias,
  };
}

function warpPlan(data: InteractionData, p: WarpParams, threads: number, onWorkers: boolean): TrainingPlan {
  return planWarp(data, p, warpSettings(p), threads, onWorkers);
}
