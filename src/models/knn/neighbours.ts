/** Runs the item-neighbour kernel over all items. */
import {
  NeighbourAccumulator,
  NeighbourHeaps,
  neighbourCount,
  type NeighbourLists,
  type NeighbourProblem,
} from '../../kernels/item-neighbours.js';

/** Neighbour lists of every item, on the calling thread. */
export function computeNeighbours(problem: NeighbourProblem): NeighbourLists {
  const heaps = new NeighbourHeaps(problem.items, neighbourCount(problem));
  new NeighbourAccumulator(problem).run(0, problem.items, heaps);
  return heaps.toLists();
}
