import type { Command } from 'commander';
import { loadCliConfig } from './cli-config.js';
import { createContext } from '../context.js';
import { DEFAULT_KEY_SCOPES } from '../domain/permissions.js';
import { subscriptionFormUrl } from '../services/forms.service.js';

const FIRST = ['Ana', 'Bruno', 'Chloé', 'Dmitri', 'Élodie', 'Farid', 'Gwen', 'Hugo', 'Inès', 'Jonas'];
const CITIES = ['Montréal', 'Québec', 'Paris', 'Lyon', 'Toronto'];

/**
 * `trackguard demo`: seeds a project with contacts in every tracking status,
 * forms, an injection rule, a group and a sent newsletter, then prints where to look.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('seed a demo project (contacts with every consent status, forms, a group and a sent newsletter)')
    .option('--contacts <n>', 'number of contacts', '60')
    .action(async (opts: { contacts: string }) => {
      const config = await loadCliConfig();
      const ctx = await createContext(config);
      try {
        const project = await ctx.projects.create('Demo newsletter');
        await ctx.projects.update(project.id, { settings: { tracking: { enabled: true, mode: 'opt-out' }, branding: { name: 'Demo & Co', color: '#1d4ed8' } } }, 'demo');
        const count = Math.max(3, Math.min(10_000, Number(opts.contacts) || 60));
        const now = Date.now();
        const records = Array.from({ length: count }, (_, i) => {
          const name = FIRST[i % FIRST.length]!;
          const consent = i % 7 === 0 ? 0 : i % 3 === 0 ? undefined : 1;
          return {
            email: `${name.normalize('NFD').replace(/[^A-Za-z]/g, '').toLowerCase()}.${i}@demo.example`,
            fields: { firstName: name, city: CITIES[i % CITIES.length] },
            ...(consent === undefined ? {} : { hasTrackingConsent: consent, dtTrackingConsent: new Date(now - (i + 1) * 86_400_000).toISOString() }),
          };
        });
        await ctx.contacts.merge(project.id, records, { source: 'admin:demo' });
        const key = await ctx.projects.issueKey(project.id, 'demo', DEFAULT_KEY_SCOPES);
        await ctx.injectionRules.create(project.id, {
          name: 'UTM',
          domains: ['example.com'],
          params: [
            { name: 'utm_source', value: 'trackguard' },
            { name: 'utm_campaign', value: '{{message.name}}' },
          ],
          autoApply: true,
          onlyTrackedContacts: false,
        });
        const subscription = await ctx.forms.create(project.id, { kind: 'subscription', name: 'Newsletter sign-up', fields: ['email', 'fields.firstName'], trackingConsentField: true });
        await ctx.forms.create(project.id, { kind: 'unsubscribe', name: 'Unsubscribe', offerTrackingOptOut: true });
        const group = await ctx.segments.create(project.id, { name: 'Montréal', type: 'dynamic', criteria: { field: 'fields.city', op: 'eq', value: 'Montréal' } });
        const { message } = await ctx.messages.create(project.id, {
          channel: 'email',
          name: 'Demo newsletter',
          communicationType: 'newsletter',
          subject: 'Hello {{contact.firstName | "there"}}',
          html: '<html><body><h1>Hello {{contact.firstName}}</h1><p>Our <a href="https://example.com/spring">spring collection</a> is out.</p><p><a href="{{unsubscribeUrl}}">Unsubscribe</a></p></body></html>',
          text: 'Hello {{contact.firstName}}, our spring collection: https://example.com/spring',
        });
        const sending = await ctx.sendings.create(project.id, { messageId: message.id, target: { all: true } });
        while (await ctx.jobs.runOnce()) {
          // deliver the demo sending to the outbox now
        }
        const done = await ctx.sendings.get(project.id, sending.id);
        const api = `${config.publicUrl}/api/v1/projects/${project.id}`;
        process.stdout.write(
          [
            `Demo project ${project.id} seeded: ${count} contacts (accepted, refused and unanswered), tracking module on (opt-out).`,
            `Project key (shown once): ${key.key}`,
            `Sending ${sending.id}: ${done.delivered} emails in ${config.dataDir}/outbox/${sending.id}/ (${done.tracked} tracked, ${done.untracked} untracked).`,
            '',
            `  curl -H "Authorization: Bearer ${key.key}" ${api}/sendings/${sending.id}/report`,
            `  curl -H "Authorization: Bearer ${key.key}" "${api}/contacts?trackingStatus=refused"`,
            `  curl -H "Authorization: Bearer ${key.key}" ${api}/groups/${group.id}/count`,
            `  subscription form: ${subscriptionFormUrl(config, subscription.id)}`,
            '',
          ].join('\n'),
        );
      } finally {
        await ctx.close();
      }
    });
}
