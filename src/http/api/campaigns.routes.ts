import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import type { Campaign } from '../../domain/campaign.js';
import { documented } from '../openapi-docs.js';
import { Id, iso, isoOrNull, Nullable, ProjectParams, problemResponses, Timestamp } from '../schemas.js';
import { projectFor } from './project-access.js';

const CampaignParams = Type.Object({ pid: Id, cid: Id });
const Name = Type.String({ minLength: 1, maxLength: 200 });
const Entry = documented('CampaignEntry', '{groupId}: the group members at start; {api: true}: contacts added through POST …/campaigns/{id}/contacts. See docs/campaigns.md');
const Start = Type.Unknown({ description: 'the id of the first node' });
const Nodes = documented(
  'CampaignNodes',
  'send {id, type, messageId, next}, wait {id, type, duration (ISO 8601, e.g. PT1H, P2D), next}, condition {id, type, criteria, yes, no}, end {id, type}. ' +
    'At a condition holding a behavioural clause, untracked contacts leave the campaign (neither branch). See docs/campaigns.md',
);
const Status = Type.Union([Type.Literal('draft'), Type.Literal('running'), Type.Literal('paused'), Type.Literal('finished')]);

const CampaignView = Type.Object({
  id: Id,
  name: Type.String(),
  status: Status,
  entry: documented('CampaignEntry'),
  start: Type.String(),
  nodes: documented('CampaignNodes'),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  startedAt: Nullable(Timestamp),
});

const StatsView = Type.Object({
  entered: Type.Integer(),
  completed: Type.Integer(),
  leftUntracked: Type.Integer({ description: 'contacts who left at a behavioural condition because they were untracked' }),
  left: Type.Integer({ description: 'contacts who left because they were erased' }),
  active: Type.Integer(),
  nodes: Type.Record(
    Type.String(),
    Type.Object({
      reached: Type.Integer(),
      leftUntracked: Type.Integer({ description: 'at a behavioural condition: the contacts who left the campaign here because they were untracked' }),
    }),
  ),
});

const conflict = { 409: Type.Ref('Problem') } as const;

function view(c: Campaign) {
  return {
    id: String(c.id),
    name: c.name,
    status: c.status,
    entry: c.entry,
    start: c.start,
    nodes: c.nodes,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
    startedAt: isoOrNull(c.startedAt),
  };
}

export function campaignRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['campaigns'];

  r.post(
    '/api/v1/projects/:pid/campaigns',
    {
      schema: {
        tags,
        summary: 'Create a campaign (a draft until started)',
        params: ProjectParams,
        body: Type.Object({ name: Name, entry: Entry, start: Start, nodes: Nodes }, { additionalProperties: false }),
        response: { 201: CampaignView, ...problemResponses },
      },
    },
    async (request, reply) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return reply.code(201).send(view(await ctx.campaigns.create(project.id, request.body)));
    },
  );

  r.get(
    '/api/v1/projects/:pid/campaigns',
    { schema: { tags, summary: "The project's campaigns", params: ProjectParams, response: { 200: Type.Object({ items: Type.Array(CampaignView) }), ...problemResponses } } },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return { items: (await ctx.campaigns.list(project.id)).map(view) };
    },
  );

  r.get(
    '/api/v1/projects/:pid/campaigns/:cid',
    { schema: { tags, summary: 'One campaign', params: CampaignParams, response: { 200: CampaignView, ...problemResponses } } },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return view(await ctx.campaigns.get(project.id, Number(request.params.cid)));
    },
  );

  r.patch(
    '/api/v1/projects/:pid/campaigns/:cid',
    {
      schema: {
        tags,
        summary: 'Rename a campaign, or change a draft’s entry and nodes',
        params: CampaignParams,
        body: Type.Object(
          { name: Type.Optional(Name), entry: Type.Optional(Entry), start: Type.Optional(Start), nodes: Type.Optional(Nodes) },
          { additionalProperties: false },
        ),
        response: { 200: CampaignView, ...problemResponses, ...conflict },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return view(await ctx.campaigns.update(project.id, Number(request.params.cid), request.body));
    },
  );

  r.delete(
    '/api/v1/projects/:pid/campaigns/:cid',
    { schema: { tags, summary: 'Delete a campaign that is not running', params: CampaignParams, response: { 204: Type.Null(), ...problemResponses, ...conflict } } },
    async (request, reply) => {
      const project = await projectFor(ctx, request, request.params.pid);
      await ctx.campaigns.delete(project.id, Number(request.params.cid));
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/api/v1/projects/:pid/campaigns/:cid/start',
    {
      schema: {
        tags,
        summary: 'Start a draft (a group entry takes the members at this moment) or resume a paused campaign',
        params: CampaignParams,
        response: { 200: CampaignView, ...problemResponses, ...conflict },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return view(await ctx.campaigns.start(project.id, Number(request.params.cid)));
    },
  );

  r.post(
    '/api/v1/projects/:pid/campaigns/:cid/pause',
    { schema: { tags, summary: 'Pause a running campaign (start resumes it)', params: CampaignParams, response: { 200: CampaignView, ...problemResponses, ...conflict } } },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return view(await ctx.campaigns.pause(project.id, Number(request.params.cid)));
    },
  );

  r.post(
    '/api/v1/projects/:pid/campaigns/:cid/contacts',
    {
      schema: {
        tags,
        summary: 'Add contacts to a running campaign with an API entry (each contact enters once; unknown ids are ignored)',
        params: CampaignParams,
        body: Type.Object({ contactIds: Type.Array(Type.Union([Id, Type.Integer({ minimum: 1 })]), { minItems: 1, maxItems: 10_000 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ entered: Type.Integer(), ignored: Type.Integer() }), ...problemResponses, ...conflict },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return ctx.campaigns.addContacts(project.id, Number(request.params.cid), request.body.contactIds.map(Number));
    },
  );

  r.get(
    '/api/v1/projects/:pid/campaigns/:cid/stats',
    { schema: { tags, summary: 'Who entered, completed or left, and how many reached each node', params: CampaignParams, response: { 200: StatsView, ...problemResponses } } },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return ctx.campaigns.stats(project.id, Number(request.params.cid));
    },
  );
}
