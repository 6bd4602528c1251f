import { join } from 'node:path';
import type { Config } from './config.js';
import { ConsentCache } from './services/consent-cache.js';
import { ConsentService } from './services/consent.service.js';
import { ContactService } from './services/contacts.service.js';
import { FormService } from './services/forms.service.js';
import { ImportService } from './services/imports.service.js';
import { EventWriter } from './services/event-writer.js';
import { BiExportService } from './services/bi-export.service.js';
import { CampaignRunner } from './services/campaign-runner.js';
import { CampaignService } from './services/campaigns.service.js';
import { ConsentDashboardService } from './services/consent-dashboard.service.js';
import { ExportService } from './services/exports.service.js';
import { HousekeepingService } from './services/housekeeping.service.js';
import { InjectionRuleService } from './services/injection-rules.service.js';
import { JobRunner } from './services/jobs.js';
import { MessagePreviewService } from './services/message-preview.service.js';
import { MessageService } from './services/messages.service.js';
import { PrivacyService } from './services/privacy.service.js';
import { ProjectService } from './services/projects.service.js';
import { AuditService } from './services/audit.service.js';
import { SessionService } from './services/sessions.service.js';
import { UserService } from './services/users.service.js';
import { ScoringService } from './services/scoring.service.js';
import { SegmentService } from './services/segments.service.js';
import { ReportService } from './services/reports.service.js';
import { SendingService } from './services/sendings.service.js';
import { TrackingService } from './services/tracking.service.js';
import { WebEventService } from './services/web-events.service.js';
import { createTransport } from './transport/transport.js';
import { type Store, migrate, openStore } from './store/database.js';
import { HitJournal } from './store/hit-journal.js';

/** Everything a server or CLI process shares: configuration, the store and the services. */
export interface AppContext {
  config: Config;
  store: Store;
  clock: () => number;
  projects: ProjectService;
  consent: ConsentService;
  contacts: ContactService;
  segments: SegmentService;
  scoring: ScoringService;
  forms: FormService;
  imports: ImportService;
  messages: MessageService;
  sendings: SendingService;
  jobs: JobRunner;
  events: EventWriter;
  tracking: TrackingService;
  injectionRules: InjectionRuleService;
  reports: ReportService;
  exports: ExportService;
  biExport: BiExportService;
  campaigns: CampaignService;
  webEvents: WebEventService;
  housekeeping: HousekeepingService;
  privacy: PrivacyService;
  messagePreview: MessagePreviewService;
  consentDashboard: ConsentDashboardService;
  users: UserService;
  sessions: SessionService;
  audit: AuditService;
  close(): Promise<void>;
}

export async function createContext(config: Config, clock: () => number = Date.now): Promise<AppContext> {
  const store = openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await migrate(store);
  const { db } = store;
  const cache = new ConsentCache();
  const projects = new ProjectService(db, clock, store.reader);
  const consent = new ConsentService(db, clock, projects, cache, store.reader);
  const contacts = new ContactService(db, clock, projects, consent);
  const scoring = new ScoringService(db, clock, projects, store.dialect);
  const segments = new SegmentService(db, clock, projects, scoring, store.dialect);
  const forms = new FormService(db, clock, config, projects, contacts, consent);
  const imports = new ImportService(db, clock, projects, contacts, store.dialect);
  const transport = createTransport(config);
  const messages = new MessageService(db, clock);
  const handlers: ConstructorParameters<typeof JobRunner>[2] = {};
  const jobs = new JobRunner(db, clock, handlers);
  const groupMembers = (projectId: number, groupId: number, now: number) => segments.contactIdsQuery(projectId, groupId, now);
  const sendings = new SendingService(db, clock, config, projects, messages, transport, jobs, groupMembers);
  handlers.sending = { step: (job) => sendings.step(job), failed: (job, error) => sendings.failed(job, error) };
  const journalDir = join(config.dataDir, 'journal');
  await EventWriter.replay(db, store.runBatch, journalDir);
  const events = new EventWriter(db, store.runBatch, new HitJournal(journalDir));
  const injectionRules = new InjectionRuleService(db, clock, store.reader);
  const tracking = new TrackingService(store.reader, clock, config, projects, consent, injectionRules, events);
  const reports = new ReportService(db, projects, sendings);
  const exports = new ExportService(db);
  const biExport = new BiExportService(db);
  const campaigns = new CampaignService(db, clock, segments, messages, jobs);
  const campaignRunner = new CampaignRunner(db, clock, projects, segments, sendings);
  handlers.campaign = { step: (job) => campaignRunner.step(job) };
  const housekeeping = new HousekeepingService(db, clock, config, projects, jobs);
  handlers.housekeeping = { step: (job) => housekeeping.step(job) };
  const webEvents = new WebEventService(db, clock, projects, events);
  const privacy = new PrivacyService(db, consent, scoring, events);
  const messagePreview = new MessagePreviewService(db, projects, messages, sendings);
  const consentDashboard = new ConsentDashboardService(db, clock, projects);
  const users = new UserService(db, clock);
  const sessions = new SessionService(db, clock, users, config.secrets[0]!);
  const audit = new AuditService(db, clock);
  return {
    config,
    store,
    clock,
    projects,
    consent,
    contacts,
    segments,
    scoring,
    forms,
    imports,
    messages,
    sendings,
    jobs,
    events,
    tracking,
    injectionRules,
    reports,
    exports,
    biExport,
    campaigns,
    webEvents,
    housekeeping,
    privacy,
    messagePreview,
    consentDashboard,
    users,
    sessions,
    audit,
    async close() {
      await jobs.stop();
      await events.close();
      await transport.close();
      await store.close();
    },
  };
}
