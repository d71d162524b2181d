import type { Engine } from '../../serving/engine.js';

export interface RouteDeps {
  engine: Engine;
}
