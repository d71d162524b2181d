/** The explicit-rating model families, as registered in the model registry. */
import type { ModelFamily } from '../registry.js';
import { BaselineModel } from './baseline.js';
import { RatingBlendModel } from './blend.js';
import { KnnBaselineModel } from './knn-baseline.js';
import { MfSgdModel } from './mf-sgd.js';
import { SvdppModel } from './svdpp.js';

export const RATING_FAMILIES: readonly ModelFamily[] = [
  {
    name: BaselineModel.modelName,
    resolveParams: (p) => BaselineModel.resolveParams(p),
    fit: async (data, p) => BaselineModel.fit(data, p),
    fromArtifact: (a) => BaselineModel.fromArtifact(a),
    searchSpace: BaselineModel.searchSpace,
  },
  {
    name: MfSgdModel.modelName,
    resolveParams: (p) => MfSgdModel.resolveParams(p),
    fit: async (data, p) => MfSgdModel.fit(data, p),
    fromArtifact: (a) => MfSgdModel.fromArtifact(a),
    searchSpace: MfSgdModel.searchSpace,
  },
  {
    name: SvdppModel.modelName,
    resolveParams: (p) => SvdppModel.resolveParams(p),
    fit: async (data, p) => SvdppModel.fit(data, p),
    fromArtifact: (a) => SvdppModel.fromArtifact(a),
    searchSpace: SvdppModel.searchSpace,
  },
  {
    name: KnnBaselineModel.modelName,
    resolveParams: (p) => KnnBaselineModel.resolveParams(p),
    fit: (data, p) => KnnBaselineModel.fitAsync(data, p),
    fromArtifact: (a) => KnnBaselineModel.fromArtifact(a),
    searchSpace: KnnBaselineModel.searchSpace,
  },
  {
    name: RatingBlendModel.modelName,
    resolveParams: (p) => RatingBlendModel.resolveParams(p),
    fit: (data, p) => RatingBlendModel.fitAsync(data, p),
    fromArtifact: (a) => RatingBlendModel.fromArtifact(a),
    searchSpace: RatingBlendModel.searchSpace,
  },
];
