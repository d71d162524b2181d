/** The rating models a blend can combine, by family name. */
import type { InteractionData } from '../../data/interactions.js';
import type { Artifact, SavableRecommender } from '../artifact.js';
import type { RatingPredictor } from '../model.js';
import type { Params } from '../params.js';
import { BaselineModel } from './baseline.js';
import { KnnBaselineModel } from './knn-baseline.js';
import { MfSgdModel } from './mf-sgd.js';
import { SvdppModel } from './svdpp.js';

export type RatingComponent = SavableRecommender & RatingPredictor;

export interface ComponentFamily {
  resolveParams(raw?: Params): object;
  fit(data: InteractionData, raw?: Params): RatingComponent;
  fromArtifact(artifact: Artifact): RatingComponent;
}

export const COMPONENTS: Record<string, ComponentFamily> = {
  [BaselineModel.modelName]: {
    resolveParams: (p) => BaselineModel.resolveParams(p),
    fit: (d, p) => BaselineModel.fit(d, p),
    fromArtifact: (a) => BaselineModel.fromArtifact(a),
  },
  [MfSgdModel.modelName]: {
    resolveParams: (p) => MfSgdModel.resolveParams(p),
    fit: (d, p) => MfSgdModel.fit(d, p),
    fromArtifact: (a) => MfSgdModel.fromArtifact(a),
  },
  [SvdppModel.modelName]: {
    resolveParams: (p) => SvdppModel.resolveParams(p),
    fit: (d, p) => SvdppModel.fit(d, p),
    fromArtifact: (a) => SvdppModel.fromArtifact(a),
  },
  [KnnBaselineModel.modelName]: {
    resolveParams: (p) => KnnBaselineModel.resolveParams(p),
    fit: (d, p) => KnnBaselineModel.fit(d, p),
    fromArtifact: (a) => KnnBaselineModel.fromArtifact(a),
  },
};

/** Names of the models a blend can combine. */
export const BLEND_COMPONENTS: readonly string[] = Object.keys(COMPONENTS);
