import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { AppError } from '../../domain/errors.js';
import { formFields, formTexts, type Lang, offersTrackingOptOut, pickLang, showsConsentField } from '../../domain/form.js';
import { contactLinkPath, signContactLink } from '../../domain/signed-link.js';
import type { ReceiptRef, Submitter } from '../../services/form-submissions.service.js';
import type { Project } from '../../services/projects.service.js';
import { statusOf } from '../problem.js';
import { issueCsrfToken, originAllowed, verifyCsrfToken } from './csrf.js';
import { hostedFormPage, NO_CONTACT } from './hosted-page.js';
import type { SafeHtml } from './html.js';
import { SlidingWindowLimiter } from './rate-limit.js';
import { isMalformedMultipart } from '../multipart-error.js';
import { installTextGuard } from '../text-guard.js';
import { confirmPage, type ErrorKind, errorPage, fieldsPage, messagePage, type PageFrame, receiptLink, trackingDonePage, trackingPage, unsubscribedPage } from './views.js';

export interface FormPagesOptions {
  /** Form POSTs allowed per client address in the window (default 60 a minute). */
  rateLimit?: { max: number; windowMs: number } | undefined;
}

const Query = Type.Object({ lang: Type.Optional(Type.String({ maxLength: 35 })) });
const Body = Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())]));
const FormIdParams = Type.Object({ formId: Type.String({ pattern: '^[0-9]{1,15}$' }) });
const TokenParams = Type.Object({ token: Type.String({ maxLength: 100 }) });

type FormBody = Record<string, string | string[]>;

const STATUS: Record<ErrorKind, number> = { notFound: 404, forbidden: 403, tooMany: 429, badRequest: 400, error: 500 };

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const ticked = (value: string | string[] | undefined): boolean => ['yes', 'on', 'true', '1'].includes(first(value) ?? '');

/** RFC 8058: the body a mail provider POSTs for one-click unsubscribe. */
const isOneClick = (body: unknown): boolean => typeof body === 'object' && body !== null && first((body as FormBody)['List-Unsubscribe']) === 'One-Click';

const pathOf = (request: FastifyRequest): string => request.url.split('?')[0]!;

function langOf(request: FastifyRequest): Lang {
  const query = request.query as { lang?: unknown } | undefined;
  return pickLang(typeof query?.lang === 'string' ? query.lang : undefined, request.headers['accept-language']);
}

function frameOf(request: FastifyRequest, project?: Project): PageFrame {
  return { lang: langOf(request), project, path: pathOf(request) };
}

function send(reply: FastifyReply, status: number, page: SafeHtml): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(page.value);
}

function submitter(request: FastifyRequest): Submitter {
  return { ip: request.ip ?? null, userAgent: request.headers['user-agent'] ?? null, gpc: request.headers['sec-gpc'] };
}

/**
 * The public hosted pages under `/f/`: server-rendered HTML that works
 * without JavaScript. GET only shows; every POST needs the page's CSRF token
 * and a same-origin `Origin` (except RFC 8058 one-click unsubscribe) and is
 * rate-limited per client address.
 */
export function formPages(ctx: AppContext, options: FormPagesOptions = {}) {
  return async (app: FastifyInstance): Promise<void> => {
    if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) await app.register(formbody, { bodyLimit: 64 * 1024 });
    if (!app.hasContentTypeParser('multipart/form-data')) {
      await app.register(multipart, { attachFieldsToBody: 'keyValues', limits: { files: 0, fields: 50, fieldSize: 8 * 1024, parts: 50 } });
    }
    installTextGuard(app);
    const limit = options.rateLimit ?? { max: 60, windowMs: 60_000 };
    const limiter = new SlidingWindowLimiter(limit.max, limit.windowMs);
    const { secrets, publicUrl } = ctx.config;

    // X-Frame-Options and nosniff come from the server-wide security headers (http/security-headers.ts);
    // a page needs its own CSP (inline styles, images) and keeps its Referer within the site.
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
      reply.header('Referrer-Policy', 'same-origin');
      reply.header('Cache-Control', 'no-store');
      reply.header('X-Robots-Tag', 'noindex, nofollow');
      return payload;
    });

    app.setErrorHandler((error: FastifyError, request, reply) => {
      let kind: ErrorKind = 'error';
      if (error instanceof AppError) {
        const status = statusOf(error.code);
        kind = status === 404 ? 'notFound' : status === 403 ? 'forbidden' : status < 500 ? 'badRequest' : 'error';
      }
      else if (error.validation) kind = error.validationContext === 'params' ? 'notFound' : 'badRequest';
      else if ((error.statusCode ?? 500) < 500 || isMalformedMultipart(error)) kind = 'badRequest';
      if (kind === 'error') request.log.error({ err: error }, 'form page failed');
      const status = kind === 'badRequest' && error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : STATUS[kind];
      return send(reply, status, errorPage(frameOf(request), kind, kind === 'notFound' ? undefined : pathOf(request)));
    });
    app.setNotFoundHandler((request, reply) => send(reply, 404, errorPage(frameOf(request), 'notFound')));

    /** Rate limit, then same-origin and CSRF token; `oneClick` lets an RFC 8058 POST through without a token. */
    const guard = (oneClick: boolean) => async (request: FastifyRequest, reply: FastifyReply) => {
      const now = ctx.clock();
      if (oneClick && isOneClick(request.body)) return;
      if (!limiter.allow(request.ip, now)) {
        reply.header('Retry-After', String(Math.ceil(limit.windowMs / 1000)));
        return send(reply, 429, errorPage(frameOf(request), 'tooMany', pathOf(request)));
      }
      const token = first((request.body as FormBody | undefined)?.csrf);
      const claim = originAllowed(request.headers.origin, publicUrl, request.headers.host) ? verifyCsrfToken(secrets, pathOf(request), token, now) : null;
      // A token works once: a replayed POST (a captured request, a double submit) changes nothing.
      if (!claim || !(await ctx.formSubmissions.spendToken(claim))) {
        return send(reply, 403, errorPage(frameOf(request), 'forbidden', `${pathOf(request)}?lang=${langOf(request)}`));
      }
    };
    const csrfFor = (request: FastifyRequest): string => issueCsrfToken(secrets, pathOf(request), ctx.clock());
    /** The signed download link of the receipt of a change just made (SPEC §14). */
    const receiptUrl = (project: Project, receipt: ReceiptRef | undefined): string | null =>
      receipt ? ctx.receipts.linkPath(project.id, receipt.contactId, receipt.seq, ctx.clock()) : null;

    const r = app.withTypeProvider<TypeBoxTypeProvider>();
    const hide = true;

    // A consent receipt, from the link of a confirmation page: the signed JSON of one history entry.
    r.get('/receipt/:token', { schema: { hide, params: TokenParams } }, async (request, reply) => {
      const { file, seq } = await ctx.receipts.download(request.params.token, ctx.clock());
      return reply
        .type('application/json; charset=utf-8')
        .header('Content-Disposition', `attachment; filename="consent-receipt-${seq}.json"`)
        .send(file);
    });

    // Subscription form: public, found by its id.
    r.get('/subscribe/:formId', { schema: { hide, params: FormIdParams, querystring: Query } }, async (request, reply) => {
      const { project, form } = await ctx.forms.subscriptionPage(Number(request.params.formId));
      return send(reply, 200, hostedFormPage({ frame: frameOf(request, project), project, form, contact: NO_CONTACT, csrf: csrfFor(request), optOutPath: '' }));
    });
    r.post('/subscribe/:formId', { schema: { hide, params: FormIdParams, querystring: Query, body: Body }, preHandler: guard(false) }, async (request, reply) => {
      const { project, form } = await ctx.forms.subscriptionPage(Number(request.params.formId));
      const frame = frameOf(request, project);
      const texts = formTexts(form.kind, frame.lang, form.spec);
      const consentTicked = ticked(request.body.trackingConsent);
      const outcome = await ctx.formSubmissions.subscribe(project, form, request.body, consentTicked, frame.lang, submitter(request));
      // The email goes out after the answer; its failure is logged without the address.
      void outcome.mail?.catch((error: NodeJS.ErrnoException) => request.log.error({ code: error.code, formId: form.id }, 'confirmation email not sent'));
      // The answer depends on the form only, never on whether the address was known (no enumeration).
      if (outcome.ok && form.spec.doubleOptIn === true) return send(reply, 200, messagePage(frame, texts.checkEmailTitle, texts.checkEmailText));
      if (outcome.ok) return send(reply, 200, messagePage(frame, texts.thanksTitle, texts.thanksText));
      const state = { fields: formFields(form.spec), values: outcome.values, errors: outcome.errors, consent: { shown: showsConsentField(form), checked: consentTicked } };
      return send(reply, 400, fieldsPage(frame, texts, form.spec, csrfFor(request), state));
    });

    // Double opt-in confirmation, from the link of the email: GET only shows the button (link scanners).
    const invalidLink = (reply: FastifyReply, frame: PageFrame, texts: { confirmInvalidTitle: string; confirmInvalidText: string }) =>
      send(reply, 404, messagePage(frame, texts.confirmInvalidTitle, texts.confirmInvalidText));
    r.get('/confirm/:token', { schema: { hide, params: TokenParams, querystring: Query } }, async (request, reply) => {
      const frame = frameOf(request);
      try {
        const { project, form, consent } = await ctx.formSubmissions.confirmationPage(request.params.token);
        const texts = formTexts(form.kind, frame.lang, form.spec);
        const label = consent && showsConsentField(form) ? texts.consentLabel : null;
        return send(reply, 200, confirmPage({ ...frame, project }, texts, csrfFor(request), label));
      } catch (error) {
        if (error instanceof AppError && error.code === 'LinkNotFound') return invalidLink(reply, frame, formTexts('subscription', frame.lang, {}));
        throw error;
      }
    });
    r.post('/confirm/:token', { schema: { hide, params: TokenParams, querystring: Query, body: Body }, preHandler: guard(false) }, async (request, reply) => {
      const frame = frameOf(request);
      try {
        const { project, form, receipt } = await ctx.formSubmissions.confirm(request.params.token, frame.lang, submitter(request));
        const texts = formTexts(form.kind, frame.lang, form.spec);
        return send(reply, 200, messagePage({ ...frame, project }, texts.thanksTitle, texts.thanksText, receiptLink(frame.lang, receiptUrl(project, receipt))));
      } catch (error) {
        if (error instanceof AppError && error.code === 'LinkNotFound') return invalidLink(reply, frame, formTexts('subscription', frame.lang, {}));
        throw error;
      }
    });

    // Profile update, behind the contact's signed link.
    r.get('/profile/:token', { schema: { hide, params: TokenParams, querystring: Query } }, async (request, reply) => {
      const { project, contact, form } = await ctx.forms.contactPage('profile', request.params.token);
      return send(reply, 200, hostedFormPage({ frame: frameOf(request, project), project, form, contact, csrf: csrfFor(request), optOutPath: '' }));
    });
    r.post('/profile/:token', { schema: { hide, params: TokenParams, querystring: Query, body: Body }, preHandler: guard(false) }, async (request, reply) => {
      const { project, contact, form } = await ctx.forms.contactPage('profile', request.params.token);
      const frame = frameOf(request, project);
      const texts = formTexts('profile', frame.lang, form.spec);
      const consentTicked = ticked(request.body.trackingConsent);
      const outcome = await ctx.formSubmissions.updateProfile(project, contact.id, form, request.body, consentTicked, frame.lang, submitter(request));
      if (outcome.ok) return send(reply, 200, messagePage(frame, texts.thanksTitle, texts.thanksText, receiptLink(frame.lang, receiptUrl(project, outcome.receipt))));
      const state = { fields: formFields(form.spec), values: outcome.values, errors: outcome.errors, consent: { shown: showsConsentField(form), checked: consentTicked } };
      return send(reply, 400, fieldsPage(frame, texts, form.spec, csrfFor(request), state));
    });

    // Tracking opt-out ({{trackingOptOutUrl}}): GET only shows, so link scanners opt nobody out.
    r.get('/tracking-optout/:token', { schema: { hide, params: TokenParams, querystring: Query } }, async (request, reply) => {
      const { project, contact, form } = await ctx.forms.contactPage('tracking-optout', request.params.token);
      return send(reply, 200, hostedFormPage({ frame: frameOf(request, project), project, form, contact, csrf: csrfFor(request), optOutPath: '' }));
    });
    r.post('/tracking-optout/:token', { schema: { hide, params: TokenParams, querystring: Query, body: Body }, preHandler: guard(false) }, async (request, reply) => {
      const { project, contact, form } = await ctx.forms.contactPage('tracking-optout', request.params.token);
      const frame = frameOf(request, project);
      const texts = formTexts('tracking-optout', frame.lang, form.spec);
      const action = first(request.body.action);
      if (action !== 'refuse' && action !== 'accept') return send(reply, 400, errorPage(frame, 'badRequest', `${frame.path}?lang=${frame.lang}`));
      const { contact: after, receipt } = await ctx.formSubmissions.setTracking(project, contact, form, action === 'accept', frame.lang, submitter(request));
      // A change older than the current consent date is not applied (newest date wins): show the page as it stands.
      const page = after.hasTrackingConsent === null ? trackingPage(frame, texts, after, csrfFor(request)) : trackingDonePage(frame, texts, after, csrfFor(request), receiptUrl(project, receipt));
      return send(reply, 200, page);
    });

    // Unsubscribe ({{unsubscribeUrl}}): GET shows; POST unsubscribes, including RFC 8058 one-click.
    const optOutUrlOf = (project: Project, contactId: number, show: boolean): string | null =>
      show ? contactLinkPath('tracking-optout', signContactLink(secrets, 'tracking-optout', project.id, contactId)) : null;
    r.get('/unsubscribe/:token', { schema: { hide, params: TokenParams, querystring: Query } }, async (request, reply) => {
      const { project, contact, form } = await ctx.forms.contactPage('unsubscribe', request.params.token);
      const optOutPath = contactLinkPath('tracking-optout', signContactLink(secrets, 'tracking-optout', project.id, contact.id));
      return send(reply, 200, hostedFormPage({ frame: frameOf(request, project), project, form, contact, csrf: csrfFor(request), optOutPath }));
    });
    r.post('/unsubscribe/:token', { schema: { hide, params: TokenParams, querystring: Query, body: Body }, preHandler: guard(true) }, async (request, reply) => {
      const { project, contact, form } = await ctx.forms.contactPage('unsubscribe', request.params.token);
      const frame = frameOf(request, project);
      const { receipt } = await ctx.formSubmissions.unsubscribe(project, contact, form, submitter(request), frame.lang);
      const optOut = optOutUrlOf(project, contact.id, offersTrackingOptOut(form, project));
      return send(reply, 200, unsubscribedPage(frame, formTexts('unsubscribe', frame.lang, form.spec), optOut && `${optOut}?lang=${frame.lang}`, receiptUrl(project, receipt)));
    });
  };
}
