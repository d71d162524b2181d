/** Runs the similarity kernel over all rows of a problem. */
import { neighbourCount, type NeighbourLists } from '../../kernels/item-neighbours.js';
import { neighbourRows, packRows, SimilarityAccumulator, type SimilarityProblem } from './similarity.js';

/** Neighbour lists of every row, on the calling thread. */
export function computeNeighbours(problem: SimilarityProblem): NeighbourLists {
  const rows = neighbourRows(problem.items, neighbourCount(problem));
  new SimilarityAccumulator(problem).run(0, problem.items, rows);
  return packRows(rows);
}
