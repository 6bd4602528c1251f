import type { Config } from './config.js';
import { ConsentCache } from './services/consent-cache.js';
import { ConsentService } from './services/consent.service.js';
import { ContactService } from './services/contacts.service.js';
import { ImportService } from './services/imports.service.js';
import { FormService } from './services/forms.service.js';
import { ProjectService } from './services/projects.service.js';
import { ScoringService } from './services/scoring.service.js';
import { SegmentService } from './services/segments.service.js';
import { type Store, migrate, openStore } from './store/database.js';

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
  imports: ImportService;
  forms: FormService;
  close(): Promise<void>;
}

export async function createContext(config: Config, clock: () => number = Date.now): Promise<AppContext> {
  const store = openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await migrate(store);
  const { db } = store;
  const cache = new ConsentCache();
  const projects = new ProjectService(db, clock);
  const consent = new ConsentService(db, clock, projects, cache);
  const contacts = new ContactService(db, clock, projects, consent);
  const scoring = new ScoringService(db, clock, projects, store.dialect);
  const segments = new SegmentService(db, clock, projects, scoring, store.dialect);
  const imports = new ImportService(db, clock, projects, contacts);
  const forms = new FormService(db, clock, config, projects, contacts, consent);
  return {
    config,
    store,
    clock,
    projects,
    consent,
    contacts,
    segments,
    scoring,
    imports,
    forms,
    close: () => store.close(),
  };
}
