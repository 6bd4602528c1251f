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
import { consentWordingRoutes } from './api/consent-wordings.routes.js';
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
import { webhookRoutes } from './api/webhooks.routes.js';
import { installApiAuth } from './auth.js';
import { type FormPagesOptions, formPages } from './forms/pages.routes.js';
import { createMetrics } from './metrics.js';
import { clientErrorHandler, frameworkErrorHandler, installErrorHandler } from './problem.js';
import { snippetRoutes } from './track/snippet.routes.js';
import { trackRoutes } from './track/track.routes.js';
import { receiptKeyRoute } from './receipt-key.routes.js';
import { withDocumentedSchemas } from './openapi-docs.js';
import { ProblemSchema } from './schemas.js';
import { installSecurityHeaders, metricsGuard } from './security-headers.js';
import { installTextGuard } from './text-guard.js';
import { installValidators } from './validation.js';

export interface AppOptions {
  logger?: boolean;
  /** Per-address limit on hosted-form POSTs (default 60 a minute). */
  formRateLimit?: FormPagesOptions['rateLimit'];
  /** Per-address limit on the web snippet's page views, `POST /t/w` (default 600 a minute). */
  pageViewRateLimit?: { max: number; windowMs: number };
  /** The built admin app (default web/dist); a folder without index.html serves the "not built" page. */
  adminDist?: string;
}

// Tracking and form URLs carry tokens; their logs keep only the route pattern.
const PRIVATE_PREFIXES = ['/t/', '/f/'];

/**
 * The URL as a request log may show it: query values dropped (`?email=` keeps
 * the name only), and a tracking or form path — however it is spelled
 * (`//t/c/…`, `/%74/c/…`, `/T/…`) — reduced to its route pattern, or to its
 * first segment when no route matched.
 *
 * @example loggedUrl('/api/v1/projects/1/contacts?email=a@b.c', '/api/v1/projects/:pid/contacts') // '/api/v1/projects/1/contacts?email='
 */
export function loggedUrl(url: string, route: string | undefined): string {
  const at = url.indexOf('?');
  const path = at === -1 ? url : url.slice(0, at);
  let normalised = path.replace(/\/{2,}/g, '/').toLowerCase();
  try {
    normalised = decodeURIComponent(normalised);
  } catch {
    // a malformed escape: keep it as sent
  }
  const isPrivate = PRIVATE_PREFIXES.some((p) => normalised.startsWith(p)) || normalised === '/t' || normalised === '/f';
  const shown = isPrivate ? (route ?? `${normalised.slice(0, 2)}/…`) : path;
  if (at === -1) return shown;
  const names = url
    .slice(at + 1)
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => `${pair.split('=')[0]}=`);
  return isPrivate || names.length === 0 ? shown : `${shown}?${names.join('&')}`;
}

export async function buildApp(ctx: AppContext, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger === false ? false : { level: ctx.config.logLevel },
    // Fastify's own request lines carry the client address: ours (below) do not.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    trustProxy: ctx.config.trustProxy,
    ajv: { customOptions: { removeAdditional: false } },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });
  installValidators(app);
  installErrorHandler(app);
  installSecurityHeaders(app, ctx.config.publicUrl);
  app.addSchema(ProblemSchema);

  const queue = ctx.queue;
  const metrics = createMetrics(
    ctx.events.stats,
    queue && {
      up: () => queue.link.up,
      get published() {
        return queue.publisher.stats.published;
      },
      get fallback() {
        return queue.publisher.stats.fallback;
      },
      get consumed() {
        return queue.consumer.stats.consumed;
      },
      get alreadyApplied() {
        return queue.recorder.stats.alreadyApplied;
      },
      observePublishes(observe) {
        queue.publisher.observePublish = observe;
      },
    },
  );
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
      const url = loggedUrl(request.url, request.routeOptions.url);
      request.log[tracking ? 'debug' : 'info']({ method: request.method, url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
    }
    done();
  });

  const role = ctx.config.role;
  const serves = { api: role === 'all' || role === 'api', track: role === 'all' || role === 'track' };
  if (serves.api) {
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
      // Criteria, score rules, campaign nodes and sending targets: validated by the domain, documented by real schemas.
      transformObject: (document) => withDocumentedSchemas('openapiObject' in document ? document.openapiObject : document.swaggerObject),
    });
    // staticCSP: the docs pages carry a CSP with hashes of swagger-ui's own inline scripts.
    await app.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true });
  }

  // Every role answers these two (SPEC §8).
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok', role }));
  app.get('/metrics', { schema: { hide: true }, preHandler: metricsGuard(ctx.config.metricsToken) }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  if (serves.track) {
    trackRoutes(app, ctx);
    await app.register(snippetRoutes(ctx, { rateLimit: options.pageViewRateLimit }));
  }
  if (!serves.api) return app;

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  receiptKeyRoute(app, ctx);
  await app.register(adminApp(options.adminDist));
  await app.register(formPages(ctx, { rateLimit: options.formRateLimit }), { prefix: '/f' });

  await app.register(async (api) => {
    // Only the API reads the session cookie: tracking hits, forms and the app's files are not parsed for cookies.
    await api.register(cookie);
    installApiAuth(api, ctx);
    installTextGuard(api);
    sessionRoutes(api, ctx);
    userRoutes(api, ctx);
    projectRoutes(api, ctx);
    keyRoutes(api, ctx);
    auditRoutes(api, ctx);
    contactRoutes(api, ctx);
    privacyRoutes(api, ctx);
    consentWordingRoutes(api, ctx);
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
    webhookRoutes(api, ctx);
  });
  return app;
}
