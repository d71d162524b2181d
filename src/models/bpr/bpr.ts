/**
 * BPR: Bayesian Personalised Ranking matrix factorisation (Rendle et al. 2009), trained by
 * SGD as described in src/kernels/bpr-sgd.ts: users drawn uniformly, positives from the
 * user's row, negatives drawn uniformly (or by popularity) and rejected while positive, item
 * biases, L2 regularisation and a linearly falling learning rate; each step is scaled by the
 * positive's sample weight, its summed strength through `weighting` (normalised to mean 1).
 * An epoch is as many steps as there are positives.
 *
 * Training runs the WebAssembly SIMD loop (src/models/bpr/wasm/ranking-kernel.as), or the
 * portable kernel where WebAssembly SIMD is missing; the two agree up to float32 rounding.
 *
 * With `threads` > 1 the users are split into equal shares, one per worker thread, and the
 * workers update shared factor arrays without locks (Hogwild): such fits differ slightly from
 * run to run. With one thread a fit is bitwise reproducible for its `seed`.
 *
 * Fold-in (users unknown to the model, ctx.userIndex -1): `foldInEpochs × |distinct history|`
 * BPR steps on a fresh user vector starting at zero, item factors and biases fixed, with the
 * training learning rate, schedule, regularisation and weighting and a fixed seed, so the
 * vector depends only on the history items and their summed weights.
 *
 * Fold-in of items unknown to the model (foldInItem): `foldInEpochs` passes of BPR steps on a
 * fresh item bias and vector with the user and other item vectors fixed (item-fold-in.ts).
 */
import type { ValueTransform } from '../../data/csr-build.js';
import type { InteractionData } from '../../data/interactions.js';
import { bprFoldIn, type BprSettings, type NegativeSampling } from '../../kernels/bpr-sgd.js';
import type { FactorArrays } from '../../kernels/bpr-common.js';
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
import { bprItemFoldIn, negativesPerPass, type ItemUsers } from './item-fold-in.js';
import { planBpr, trainHere, trainOnWorkers, type TrainingPlan } from './train.js';

export interface BprParams extends BprSettings {
  factors: number;
  /** Sample weight of a positive from its summed strength (normalised to mean 1). */
  weighting: ValueTransform;
  seed: number;
  /** Worker threads; 0 picks by problem size and available cores. */
  threads: number;
  /** Fold-in passes over a new user's distinct history. */
  foldInEpochs: number;
}

export class BprModel extends RankingFactorModel {
  static readonly modelName = 'bpr';

  /** Settings worth trying on a validation split. */
  static readonly searchSpace = {
    factors: [64, 128],
    epochs: [60, 100],
    learningRate: [0.05, 0.08, 0.12],
    regularization: [0.005, 0.01, 0.02],
    weighting: ['binary', 'log1p', 'identity'],
  } as const satisfies Record<string, readonly (number | string | boolean)[]>;

  private constructor(
    info: ModelInfo,
    itemIds: readonly string[],
    arrays: FactorArrays,
    private readonly params: BprParams,
  ) {
    super(info, itemIds, arrays);
  }

  static resolveParams(raw?: Params): BprParams {
    const r = new ParamReader(BprModel.modelName, raw);
    const params: BprParams = {
      factors: r.number('factors', 64, { min: 1, max: 1024, integer: true }),
      epochs: r.number('epochs', 60, { min: 0, max: 10_000, integer: true }),
      learningRate: r.number('learningRate', 0.05, { min: 0, max: 10 }),
      learningRateDecay: r.number('learningRateDecay', 0.9, { min: 0, max: 1 }),
      regularization: r.number('regularization', 0.005, { min: 0, max: 10 }),
      biasRegularization: r.number('biasRegularization', 0.005, { min: 0, max: 10 }),
      itemBias: r.boolean('itemBias', true),
      negativeSampling: r.choice<NegativeSampling>('negativeSampling', 'uniform', ['uniform', 'popularity']),
      weighting: r.choice<ValueTransform>('weighting', 'log1p', ['identity', 'binary', 'log1p']),
      seed: r.number('seed', 1, { min: 0, max: 2 ** 32 - 1, integer: true }),
      threads: r.number('threads', 0, { min: 0, max: 256, integer: true }),
      foldInEpochs: r.number('foldInEpochs', 40, { min: 0, max: 10_000, integer: true }),
    };
    r.done();
    return params;
  }

  /** Fits on the calling thread (bitwise reproducible for the seed). */
  static fit(data: InteractionData, raw?: Params): BprModel {
    const start = performance.now();
    const params = BprModel.resolveParams(raw);
    const arrays = trainHere(bprPlan(data, params, 1, false));
    return BprModel.fitted(data, params, arrays, start);
  }

  /**
   * Fits on `threads` worker threads; with `threads` 0 small fits run on the calling thread,
   * medium ones on one worker and large ones on all cores. One thread gives the same result as
   * `fit`.
   */
  static async fitAsync(data: InteractionData, raw?: Params): Promise<BprModel> {
    const start = performance.now();
    const params = BprModel.resolveParams(raw);
    const nnz = data.matrix.indptr[data.matrix.rows];
    const place = placeFit(params.threads, params.epochs * nnz * params.factors * 6);
    const plan = bprPlan(data, params, place.threads, !place.inline);
    const arrays = place.inline ? trainHere(plan) : await trainOnWorkers(plan);
    return BprModel.fitted(data, params, arrays, start);
  }

  private static fitted(
    data: InteractionData,
    params: BprParams,
    arrays: FactorArrays,
    start: number,
  ): BprModel {
    const info = fittedInfo(BprModel.modelName, { ...params }, data, secondsSince(start));
    return new BprModel(info, data.items.ids.slice(), arrays, params);
  }

  static fromArtifact(artifact: Artifact): BprModel {
    const arrays = factorArraysFromArtifact(artifact, BprModel.modelName);
    const { info, itemIds } = artifact.header;
    return new BprModel(info, itemIds, arrays, BprModel.resolveParams(info.params));
  }

  protected foldInDistinct(items: Int32Array, weights: Float32Array, count: number, out: Float32Array): void {
    const p = this.params;
    historySampleWeights(weights, count, p.weighting);
    bprFoldIn(this.arrays, items, weights, count, p, p.foldInEpochs, p.seed, out);
  }

  protected foldInItemDistinct(it: ItemUsers, out: Float32Array): void {
    const p = this.params;
    historySampleWeights(it.weights, it.count, p.weighting);
    const negatives = negativesPerPass(
      this.info.interactions,
      this.arrays.items,
      p.negativeSampling === 'popularity',
      it.count,
    );
    bprItemFoldIn(
      this.arrays,
      it,
      bprSettings(p),
      { epochs: p.foldInEpochs, negativesPerPass: negatives, seed: p.seed },
      out,
    );
  }
}

function bprSettings(p: BprParams): BprSettings {
  return {
    epochs: p.epochs,
    learningRate: p.learningRate,
    learningRateDecay: p.learningRateDecay,
    regularization: p.regularization,
    biasRegularization: p.biasRegularization,
    itemBias: p.itemBias,
    negativeSampling: p.negativeSampling,
  };
}

function bprPlan(data: InteractionData, p: BprParams, threads: number, onWorkers: boolean): TrainingPlan {
  return planBpr(data, p, bprSettings(p), threads, onWorkers);
}
