import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { iso, Id, problemResponses, Timestamp } from '../schemas.js';
import { projectFor } from './project-access.js';

const WordingParams = Type.Object({
  pid: Id,
  hash: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'the `wordingHash` of a consent-history entry (SHA-256, 64 lower-case hex digits)' }),
});

const WordingView = Type.Object({
  hash: Type.String(),
  text: Type.String({ description: 'the exact wording the person was shown' }),
  lang: Type.String({ description: 'the language of the page that showed it' }),
  firstShownAt: Timestamp,
});

/** Issue 12 item 14: the consent wordings behind the history's `wordingHash`, the proof of what a person read. */
export function consentWordingRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/api/v1/projects/:pid/consent-wordings/:hash',
    {
      schema: {
        tags: ['privacy'],
        summary: 'The exact consent wording a person was shown, by the `wordingHash` of their consent-history entry',
        params: WordingParams,
        response: { 200: WordingView, ...problemResponses },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const wording = await ctx.consent.wording(project.id, request.params.hash);
      return { hash: wording.hash, text: wording.text, lang: wording.lang, firstShownAt: iso(wording.firstShownAt) };
    },
  );
}
