import { join } from 'node:path';
import type { Config } from './config.js';
import { ConsentCache } from './services/consent-cache.js';
import { ConsentService } from './services/consent.service.js';
import { ContactService } from './services/contacts.service.js';
import { FormSubmissionService } from './services/form-submissions.service.js';
import { FormService } from './services/forms.service.js';
import { ImportService } from './services/imports.service.js';
import { BatchRecorder } from './services/batch-recorder.js';
import { type Change, ChangeNotifier } from './services/change-notifier.js';
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
import { MessageTestService } from './services/message-test.service.js';
import { MessageService } from './services/messages.service.js';
import { PrivacyService } from './services/privacy.service.js';
import { ReceiptService } from './services/receipts.service.js';
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
import { WEBHOOK_JOB, WebhookService } from './services/webhooks.service.js';
import { createTransport, type Transport } from './transport/transport.js';
import { type Store, migrate, openStore } from './store/database.js';
import type { NewEvent } from './store/event-batch.js';
import { HitJournal } from './store/hit-journal.js';
import { pgChangeChannel } from './store/pg-change-channel.js';
import { HitConsumer } from './queue/hit-consumer.js';
import { HitPublisher } from './queue/hit-publisher.js';
import { NatsLink, type QueueLog } from './queue/nats-link.js';
import { natsChangeChannel } from './queue/nats-change-channel.js';

/** The hit queue (TRACKGUARD_QUEUE, SPEC §8): the NATS link, the publishing side and the writing side. */
export interface HitQueue {
  link: NatsLink;
  publisher: HitPublisher;
  consumer: HitConsumer;
  recorder: BatchRecorder;
  /** Connects (in the background); with `consume`, this process also writes the queued hits. */
  start(consume: boolean, log: QueueLog): void;
}

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
  formSubmissions: FormSubmissionService;
  imports: ImportService;
  messages: MessageService;
  messageTests: MessageTestService;
  sendings: SendingService;
  /** Where sendings and message tests hand messages (the configured transport). */
  transport: Transport;
  jobs: JobRunner;
  /** The direct group-commit writer (with its hit journal). */
  events: EventWriter;
  /** Set when TRACKGUARD_QUEUE is: hits go through JetStream while it answers; a server calls `queue.start()`. */
  queue: HitQueue | undefined;
  /** Change notifications between processes; a server calls `changes.listen()` once it serves. */
  changes: ChangeNotifier;
  tracking: TrackingService;
  injectionRules: InjectionRuleService;
  reports: ReportService;
  exports: ExportService;
  biExport: BiExportService;
  campaigns: CampaignService;
  webEvents: WebEventService;
  housekeeping: HousekeepingService;
  privacy: PrivacyService;
  /** Consent receipts: the signing key, download links, verification (SPEC §14). */
  receipts: ReceiptService;
  messagePreview: MessagePreviewService;
  consentDashboard: ConsentDashboardService;
  users: UserService;
  sessions: SessionService;
  audit: AuditService;
  webhooks: WebhookService;
  close(): Promise<void>;
}

export async function createContext(config: Config, clock: () => number = Date.now): Promise<AppContext> {
  const store = openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, sqliteSync: config.sqliteSync });
  await migrate(store);
  const { db } = store;
  const cache = new ConsentCache();
  const projects = new ProjectService(db, clock, store.reader);
  const consent = new ConsentService(db, clock, projects, cache, store.reader);
  const contacts = new ContactService(db, clock, projects, consent);
  const scoring = new ScoringService(db, clock, projects, store.dialect);
  const segments = new SegmentService(db, clock, projects, scoring, store.dialect);
  const transport = createTransport(config);
  const forms = new FormService(db, clock, config, projects);
  const formSubmissions = new FormSubmissionService(db, clock, config, projects, contacts, consent, transport);
  const imports = new ImportService(db, clock, projects, contacts, join(config.dataDir, 'uploads'));
  const messages = new MessageService(db, clock);
  const messageTests = new MessageTestService(db, clock, config, messages, transport);
  const handlers: ConstructorParameters<typeof JobRunner>[2] = {};
  const jobs = new JobRunner(db, clock, handlers);
  const groupMembers = (projectId: number, groupId: number, now: number) => segments.contactIdsQuery(projectId, groupId, now);
  const sendings = new SendingService(db, clock, config, projects, messages, transport, jobs, groupMembers);
  handlers.sending = { step: (job) => sendings.step(job), failed: (job, error) => sendings.failed(job, error) };
  const journalDir = join(config.dataDir, 'journal');
  const recorder = new BatchRecorder(store, cache, clock);
  await EventWriter.replay(db, recorder, journalDir);
  const journal = new HitJournal<NewEvent>(journalDir);
  await journal.open();
  const events = new EventWriter(recorder, journal);
  const changes = new ChangeNotifier();
  let queue: HitQueue | undefined;
  if (config.queueUrl) {
    const link = new NatsLink(config.queueUrl, config.queuePrefix, `trackguard ${config.role} ${process.pid}`);
    const consumer = new HitConsumer(link, recorder, db, clock);
    queue = {
      link,
      publisher: new HitPublisher(link, events),
      consumer,
      recorder,
      start(consume, log) {
        link.start(log);
        if (consume) consumer.start(log);
      },
    };
    changes.use(natsChangeChannel(link));
  } else if (store.dialect === 'postgres' && config.databaseUrl) {
    changes.use(pgChangeChannel(config.databaseUrl, db));
  }
  const hits = queue?.publisher ?? events;
  const injectionRules = new InjectionRuleService(db, clock, store.reader);
  const tracking = new TrackingService(store.reader, clock, config, projects, consent, injectionRules, hits);
  const publish = (change: Change) => changes.publish(change);
  consent.notify = publish;
  projects.notify = publish;
  injectionRules.notify = publish;
  changes.onRemote((change) => {
    const projectId = change.kind === 'everything' ? null : change.projectId;
    if (change.kind === 'consent' || change.kind === 'everything') consent.forget(projectId, change.kind === 'consent' ? change.contactIds : null);
    if (change.kind === 'project' || change.kind === 'everything') {
      projects.forget(projectId);
      recorder.forgetProject(projectId);
    }
    if (change.kind === 'injection-rules' || change.kind === 'everything') injectionRules.forget(projectId);
  });
  const reports = new ReportService(db, projects, sendings);
  const exports = new ExportService(db);
  const biExport = new BiExportService(db);
  const campaigns = new CampaignService(db, clock, segments, messages, jobs);
  const campaignRunner = new CampaignRunner(db, clock, projects, segments, sendings);
  handlers.campaign = { step: (job) => campaignRunner.step(job) };
  const housekeeping = new HousekeepingService(db, clock, config, projects, jobs, formSubmissions, store.dialect);
  handlers.housekeeping = { step: (job) => housekeeping.step(job) };
  const webEvents = new WebEventService(db, clock, projects, hits, config.secrets);
  const privacy = new PrivacyService(db, clock, projects, consent, scoring, events);
  const receipts = new ReceiptService(db, config);
  const messagePreview = new MessagePreviewService(db, projects, messages, sendings);
  const consentDashboard = new ConsentDashboardService(db, clock, projects);
  const users = new UserService(db, clock);
  const sessions = new SessionService(db, clock, users, config.secrets[0]!);
  const audit = new AuditService(db, clock);
  const webhooks = new WebhookService(db, clock, config, jobs);
  handlers[WEBHOOK_JOB] = { step: (job) => webhooks.step(job) };
  consent.outbox = (trx, project, changes) => webhooks.consentChanged(trx, project, changes);
  privacy.outbox = (trx, projectId, contactId) => webhooks.contactErased(trx, projectId, contactId);
  formSubmissions.outbox = (trx, projectId, contact, source) => webhooks.contactUnsubscribed(trx, projectId, contact, source);
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
    formSubmissions,
    imports,
    messages,
    messageTests,
    sendings,
    transport,
    jobs,
    events,
    queue,
    changes,
    tracking,
    injectionRules,
    reports,
    exports,
    biExport,
    campaigns,
    webEvents,
    housekeeping,
    privacy,
    receipts,
    messagePreview,
    consentDashboard,
    users,
    sessions,
    audit,
    webhooks,
    async close() {
      // The SQLite writer thread is unref'd: once the server stops listening nothing else may hold the event
      // loop, and the process would exit while a commit's answer is on its way (the journal and its `meta`
      // row left behind). This timer holds it until everything is closed.
      const keepAlive = setInterval(() => undefined, 1000);
      try {
        await imports.drain();
        await jobs.stop();
        // Publishes in flight settle (or go the direct way), the writer side hands back what it holds.
        await queue?.publisher.close();
        await queue?.consumer.stop();
        await events.close();
        await changes.close();
        await queue?.link.close();
        await formSubmissions.settled();
        await transport.close();
        await store.close();
      } finally {
        clearInterval(keepAlive);
      }
    },
  };
}
