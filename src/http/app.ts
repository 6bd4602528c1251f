import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { AppContext } from '../context.js';
import { adminApp } from './admin/admin.routes.js';
import { campaignRoutes } from './api/campaigns.routes.js';
import { contactRoutes } from './api/contacts.routes.js';
import { dashboardRoutes } from './api/dashboards.routes.js';
import { groupRoutes } from './api/groups.routes.js';
import { importRoutes } from './api/imports.routes.js';
import { eventRoutes } from './api/events.routes.js';
import { exportRoutes } from './api/exports.routes.js';
import { formRoutes } from './api/forms.routes.js';
import { injectionRuleRoutes } from './api/injection-rules.routes.js';
import { messageRoutes } from './api/messages.routes.js';
import { previewRoutes } from './api/previews.routes.js';
import { privacyRoutes } from './api/privacy.routes.js';
import { projectRoutes } from './api/projects.routes.js';
import { scoreModelRoutes } from './api/score-models.routes.js';
import { sendingRoutes } from './api/sendings.routes.js';
import { auditRoutes } from './api/audit.routes.js';
import { keyRoutes } from './api/keys.routes.js';
import { sessionRoutes } from './api/sessions.routes.js';
import { userRoutes } from './api/users.routes.js';
import { installApiAuth } from './auth.js';
import { type FormPagesOptions, formPages } from './forms/pages.routes.js';
import { createMetrics } from './metrics.js';
import { installErrorHandler } from './problem.js';
import { trackRoutes } from './track/track.routes.js';
import { ProblemSchema } from './schemas.js';
import { installValidators } from './validation.js';

export interface AppOptions {
  logger?: boolean;
  /** Per-address limit on hosted-form POSTs (default 60 a minute). */
  formRateLimit?: FormPagesOptions['rateLimit'];
  /** The built admin app (default web/dist); a folder without index.html serves the "not built" page. */
  adminDist?: string;
}

// Tracking and form URLs carry tokens; their logs keep only the route pattern.
const PRIVATE_PREFIXES = ['/t/', '/f/'];

export async function buildApp(ctx: AppContext, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger === false ? false : { level: ctx.config.logLevel },
    // Fastify's own request lines carry the client address: ours (below) do not.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    trustProxy: ctx.config.trustProxy,
    ajv: { customOptions: { removeAdditional: false } },
  });
  installValidators(app);
  installErrorHandler(app);
  app.addSchema(ProblemSchema);

  const metrics = createMetrics(ctx.events.stats);
  // Tracking hits are logged at debug only: skip building their log lines otherwise.
  const logTrackingHits = ['debug', 'trace'].includes(ctx.config.logLevel);
  // A callback hook, not an async one: it runs on every tracking hit and needs no promise.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ route, method: request.method, status: reply.statusCode });
    metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
    // Request logs never carry IP addresses; tracking and form URLs are logged as their pattern only.
    const tracking = route.startsWith('/t/');
    if (!tracking || logTrackingHits) {
      const url = PRIVATE_PREFIXES.some((p) => request.url.startsWith(p)) ? route : request.url;
      request.log[tracking ? 'debug' : 'info']({ method: request.method, url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
    }
    done();
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'trackguard API', version: '1', description: 'Messages, tracking and behavioural-tracking consent. Authenticate with `Authorization: Bearer <key>`, or with the session cookie of `POST /api/v1/sessions` (then every state-changing request carries `X-CSRF-Token`).' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: 'tg_session', description: 'admin-app session (POST /api/v1/sessions); state-changing requests also send X-CSRF-Token' },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(adminApp(options.adminDist));
  trackRoutes(app, ctx);
  await app.register(formPages(ctx, { rateLimit: options.formRateLimit }), { prefix: '/f' });

  await app.register(cookie);
  await app.register(async (api) => {
    installApiAuth(api, ctx);
    sessionRoutes(api, ctx);
    userRoutes(api, ctx);
    projectRoutes(api, ctx);
    keyRoutes(api, ctx);
    auditRoutes(api, ctx);
    contactRoutes(api, ctx);
    privacyRoutes(api, ctx);
    groupRoutes(api, ctx);
    scoreModelRoutes(api, ctx);
    messageRoutes(api, ctx);
    sendingRoutes(api, ctx);
    eventRoutes(api, ctx);
    exportRoutes(api, ctx);
    campaignRoutes(api, ctx);
    injectionRuleRoutes(api, ctx);
    formRoutes(api, ctx);
    importRoutes(api, ctx);
    previewRoutes(api, ctx);
    dashboardRoutes(api, ctx);
  });
  return app;
}
