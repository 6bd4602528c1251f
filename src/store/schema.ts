import type { Generated } from 'kysely';

/**
 * The database as Kysely sees it. Both dialects share these types: timestamps
 * are epoch milliseconds (bigint), booleans are 0/1 integers and JSON is text,
 * so one query code path serves SQLite and PostgreSQL.
 * Every table but `meta` and `projects` leads with `project_id`.
 */
export interface Database {
  meta: MetaTable;
  projects: ProjectTable;
  api_keys: ApiKeyTable;
  contacts: ContactTable;
  consent_history: ConsentHistoryTable;
  ledger_heads: LedgerHeadTable;
  messages: MessageTable;
  sendings: SendingTable;
  sending_links: SendingLinkTable;
  deliveries: DeliveryTable;
  sending_stats: SendingStatsTable;
  link_stats: LinkStatsTable;
  events: EventTable;
  jobs: JobTable;
  injection_rules: InjectionRuleTable;
  imports: ImportTable;
  import_rejects: ImportRejectTable;
  forms: FormTable;
  form_requests: FormRequestTable;
  spent_form_tokens: SpentFormTokenTable;
  queue_applied: QueueAppliedTable;
  groups: GroupTable;
  group_members: GroupMemberTable;
  score_models: ScoreModelTable;
  campaigns: CampaignTable;
  campaign_contacts: CampaignContactTable;
  campaign_nodes: CampaignNodeTable;
  campaign_sends: CampaignSendTable;
  users: UserTable;
  user_projects: UserProjectTable;
  sessions: SessionTable;
  audit_log: AuditLogTable;
  erased_subjects: ErasedSubjectTable;
  consent_wordings: ConsentWordingTable;
  webhooks: WebhookTable;
  webhook_deliveries: WebhookDeliveryTable;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface ProjectTable {
  id: Generated<number>;
  name: string;
  settings: string;
  ledger_salt: string;
  created_at: number;
  updated_at: number;
}

export interface ApiKeyTable {
  project_id: number;
  id: Generated<number>;
  name: string;
  key_hash: string;
  created_at: number;
  /** Comma-separated scopes: read, write, consent, admin. */
  scopes: Generated<string>;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** Installation-wide: an owner reaches every project. */
export interface UserTable {
  id: Generated<number>;
  email: string;
  name: string | null;
  password_hash: string | null;
  role: string;
  language: string | null;
  created_at: number;
  updated_at: number;
}

export interface UserProjectTable {
  project_id: number;
  user_id: number;
}

export interface SessionTable {
  /** SHA-256 of the cookie's random id: the id itself is never stored. */
  id_hash: string;
  user_id: number;
  created_at: number;
  last_seen_at: number;
}

export interface AuditLogTable {
  /** 0 for installation-wide actions (users, project creation). */
  project_id: number;
  id: Generated<number>;
  at: number;
  actor: string;
  action: string;
  object: string;
  outcome: string;
  status: number;
  detail: string | null;
}

export interface ContactTable {
  project_id: number;
  id: Generated<number>;
  email: string | null;
  external_id: string | null;
  phone: string | null;
  fields: string;
  status: string;
  has_tracking_consent: number | null;
  dt_tracking_consent: number | null;
  created_at: number;
  updated_at: number;
}

export interface ConsentHistoryTable {
  project_id: number;
  id: Generated<number>;
  seq: number;
  contact_id: number | null;
  subject_hash: string | null;
  action: string;
  date: number;
  recorded_at: number;
  source: string;
  ip: string | null;
  user_agent: string | null;
  wording_hash: string | null;
  detail: string | null;
  pii_digest: string;
  erased: number;
  prev_hash: string;
  hash: string;
}

/** The suppression list of erasure: an address erased from a project, as its salted hash (the ledger's subject_hash). */
export interface ErasedSubjectTable {
  project_id: number;
  subject_hash: string;
  erased_at: number;
  /** The ledger sequence of the erasure's own history entry. */
  ledger_seq: number;
}

/** A consent wording a form showed, stored once per project under its SHA-256 (the history's wording_hash). */
export interface ConsentWordingTable {
  project_id: number;
  hash: string;
  text: string;
  lang: string;
  first_shown_at: number;
}

export interface LedgerHeadTable {
  project_id: number;
  seq: number;
  hash: string;
}

export interface MessageTable {
  project_id: number;
  id: Generated<number>;
  channel: string;
  name: string;
  communication_type: string;
  subject: string | null;
  html: string | null;
  text: string | null;
  push_title: string | null;
  push_url: string | null;
  from_address: string | null;
  injection_rule_ids: string;
  created_at: number;
  /** Set when the message was removed; the row stays for its sendings and reports. */
  deleted_at: Generated<number | null>;
}

export interface SendingTable {
  project_id: number;
  id: Generated<number>;
  message_id: number;
  target: string;
  status: string;
  targeted: number;
  tracked: number;
  untracked: number;
  delivered: number;
  failed: number;
  /** Messages a crash left unknown: handed to the transport, never acknowledged (migration 0011). */
  lost: Generated<number>;
  cursor: number | null;
  /** The window handed to the transport and not yet recorded, as JSON `{ claim, ids }` (migration 0011). */
  in_flight: string | null;
  max_contact_id: number;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  /** When a scheduled sending is due (migration 0020). */
  scheduled_at: Generated<number | null>;
  cancelled_at: Generated<number | null>;
  /** Contacts of the target left out when it was counted, per reason; null on sendings counted before migration 0021. */
  excluded_unsubscribed: Generated<number | null>;
  excluded_quarantined: Generated<number | null>;
  excluded_no_address: Generated<number | null>;
}

export interface SendingLinkTable {
  project_id: number;
  sending_id: number;
  idx: number;
  url: string;
}

export interface DeliveryTable {
  project_id: number;
  sending_id: number;
  contact_id: number;
  status: string;
  at: number;
}

export interface SendingStatsTable {
  project_id: number;
  sending_id: number;
  opens: number;
  opens_machine: number;
  clicks: number;
  clicks_machine: number;
}

export interface LinkStatsTable {
  project_id: number;
  sending_id: number;
  idx: number;
  clicks: number;
  clicks_machine: number;
}

export interface EventTable {
  project_id: number;
  id: Generated<number>;
  type: string;
  contact_id: number | null;
  nonce: string | null;
  sending_id: number | null;
  message_id: number | null;
  link_idx: number | null;
  channel: string | null;
  name: string | null;
  url: string | null;
  form_id: number | null;
  at: number;
  device: string | null;
  /** A web or app event: the type it was posted with (`purchase`, `page_view`); `type` is `web`. */
  web_type: string | null;
  machine: number;
  ip: string | null;
  user_agent: string | null;
}

export interface JobTable {
  project_id: number;
  id: Generated<number>;
  kind: string;
  ref_id: number;
  state: string;
  run_at: number;
  lease_until: number;
  attempts: number;
  last_error: string | null;
  created_at: number;
}

export interface InjectionRuleTable {
  project_id: number;
  id: Generated<number>;
  name: string;
  spec: string;
  created_at: number;
  updated_at: number;
}

export interface ImportTable {
  project_id: number;
  id: Generated<number>;
  file_name: string | null;
  type: string;
  /** JSON: `[{ column, target }]`. */
  mapping: string;
  delimiter: string;
  actor: string;
  status: string;
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  consent_applied: number;
  consent_stale: number;
  rejected: number;
  error: string | null;
  started_at: number;
  finished_at: number | null;
}

export interface ImportRejectTable {
  project_id: number;
  import_id: number;
  line: number;
  reason: string;
  raw: string;
}

export interface FormTable {
  project_id: number;
  id: Generated<number>;
  kind: string;
  name: string;
  spec: string;
  /** 1 for the per-contact form of its kind that messages' links open. */
  is_default: Generated<number>;
  created_at: number;
  updated_at: number;
}

export interface FormRequestTable {
  project_id: number;
  id: Generated<number>;
  form_id: number;
  email: string;
  values_json: string;
  consent: number;
  lang: string;
  wording_hash: string | null;
  ip: string | null;
  user_agent: string | null;
  nonce_hash: string;
  created_at: number;
  expires_at: number;
}

export interface GroupTable {
  project_id: number;
  id: Generated<number>;
  name: string;
  type: string;
  criteria: string;
  refreshed_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface GroupMemberTable {
  project_id: number;
  group_id: number;
  contact_id: number;
}

export interface ScoreModelTable {
  project_id: number;
  id: Generated<number>;
  name: string;
  rules: string;
  created_at: number;
  updated_at: number;
}

export interface CampaignTable {
  project_id: number;
  id: Generated<number>;
  name: string;
  /** The campaign definition (entry, start, nodes) as JSON. */
  spec: string;
  /** draft | running | paused | finished */
  status: string;
  created_at: number;
  updated_at: number;
  started_at: number | null;
}

export interface CampaignContactTable {
  project_id: number;
  campaign_id: number;
  contact_id: number;
  /** The node the contact runs next, once `next_run_at` is due. */
  node_id: string;
  /** active | completed | left_untracked | left */
  state: string;
  next_run_at: number;
  lease_until: number;
  entered_at: number;
  updated_at: number;
}

export interface CampaignNodeTable {
  project_id: number;
  campaign_id: number;
  node_id: string;
  reached: number;
}

export interface CampaignSendTable {
  project_id: number;
  id: Generated<number>;
  campaign_id: number;
  node_id: string;
  message_id: number;
  /** JSON array of the contact ids of the batch. */
  contact_ids: string;
  /** Set once the sending exists. */
  sending_id: number | null;
  created_at: number;
}

export interface SpentFormTokenTable {
  id: string;
  expires_at: number;
}

/** A hit queue message already committed (SPEC §8): a redelivery of it is acknowledged without writing again. */
export interface QueueAppliedTable {
  /** The message id the publisher gave the hit. */
  id: string;
  /** The JetStream stream and sequence it was pulled from; null when it was written directly (NATS unavailable). */
  stream: string | null;
  seq: number | null;
  applied_at: number;
}

export interface WebhookTable {
  project_id: number;
  id: Generated<number>;
  url: string;
  /** In clear: it must be recoverable to sign deliveries; never returned by the API after creation. */
  secret: string;
  /** Comma-separated event types. */
  events: string;
  active: number;
  created_at: number;
  updated_at: number;
}

export interface WebhookDeliveryTable {
  project_id: number;
  id: Generated<number>;
  webhook_id: number;
  /** The payload's `id`: the receiver's idempotency key. */
  event_id: string;
  type: string;
  payload: string;
  /** `pending` | `delivered` | `failed` */
  status: string;
  attempts: number;
  last_error: string | null;
  last_status_code: number | null;
  next_attempt_at: number | null;
  delivered_at: number | null;
  /** JSON array of `{ at, statusCode, error }`, one per attempt. */
  attempt_log: string;
  created_at: number;
  updated_at: number;
}
