import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Engine } from '../serving/engine.js';
import { installErrorHandling } from './errors.js';
import { installRequestMetrics } from '../monitoring/request-metrics.js';
import { healthRoutes } from './routes/health.js';
import { monitoringRoutes } from './routes/monitoring.js';
import { userRoutes } from './routes/users.js';
import { itemRoutes } from './routes/items.js';
import { eventRoutes } from './routes/events.js';
import { eventTypeRoutes } from './routes/event-types.js';
import { recommendRoutes } from './routes/recommend.js';
import { modelRoutes } from './routes/models.js';
import { placementRoutes } from './routes/placements.js';
import { onboardingRoutes } from './routes/onboarding.js';
import { rankerRoutes } from './routes/rankers.js';
import { recommendationRoutes } from './routes/recommendations.js';

export interface AppOptions {
  engine: Engine;
  /** pino options or false; defaults to no request logging. */
  logger?: boolean | { level: string };
  loggerInstance?: FastifyBaseLogger;
}

export type App = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** The largest request body: 10,000 rows of a batch with generous attributes. */
const BODY_LIMIT = 32 * 1024 * 1024;

export async function buildApp(options: AppOptions): Promise<App> {
  const app = Fastify({
    ...(options.loggerInstance
      ? { loggerInstance: options.loggerInstance }
      : { logger: options.logger ?? false }),
    bodyLimit: BODY_LIMIT,
    logController: new LogController({ disableRequestLogging: true }),
    ajv: {
      customOptions: { coerceTypes: 'array', removeAdditional: false, useDefaults: true, allErrors: false },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  installErrorHandling(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Kindred',
        description:
          'Self-hosted recommendation engine: send users, items and feedback events; get personalised recommendations.',
        version: '0.1.0',
      },
      tags: [
        { name: 'recommend', description: 'Recommendations and similar items' },
        { name: 'users', description: 'Users and their attributes' },
        { name: 'items', description: 'The catalogue' },
        { name: 'events', description: 'Feedback events (views, clicks, purchases, ratings, ...)' },
        { name: 'event-types', description: 'Configured event types and their weights' },
        { name: 'models', description: 'Trained models' },
        { name: 'placements', description: 'Placement settings and business rules' },
        { name: 'ops', description: 'Health and readiness' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const deps = { engine: options.engine };
  installRequestMetrics(app, deps.engine.metrics);
  await app.register(monitoringRoutes, { metrics: deps.engine.metrics, drift: deps.engine.drift });
  await app.register(healthRoutes, deps);
  await app.register(userRoutes, deps);
  await app.register(itemRoutes, deps);
  await app.register(eventRoutes, deps);
  await app.register(eventTypeRoutes, deps);
  await app.register(recommendRoutes, deps);
  await app.register(modelRoutes, deps);
  await app.register(placementRoutes, deps);
  await app.register(recommendationRoutes, deps);
  await app.register(rankerRoutes, deps);
  await app.register(onboardingRoutes, deps);
  return app as unknown as App;
}
