/** Who may do what through the API (SPEC §13 roles, SPEC §15 key scopes): the one permission table. */

export const ROLES = ['owner', 'marketer', 'privacy', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const SCOPES = ['read', 'write', 'consent', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Scopes of a key issued without a `scopes` list: everything but the project's settings and keys. */
export const DEFAULT_KEY_SCOPES: Scope[] = ['read', 'write', 'consent'];

/**
 * The roles a user needs, and the scope a project key needs, for one action.
 * `scope: null` means no project key may do it (installation-wide actions:
 * only the admin key or an owner).
 */
export interface Permission {
  roles: readonly Role[];
  scope: Scope | null;
  /** false for a POST that only computes (a preview, a count): it changes nothing and is not audited. */
  changesState?: false;
}

const EVERYONE: Permission = { roles: ROLES, scope: 'read' };
// Computations posted as a body (previews, live counts): a read, whoever may read.
const PREVIEW: Permission = { roles: ROLES, scope: 'read', changesState: false };
const MARKETING: Permission = { roles: ['owner', 'marketer'], scope: 'write' };
const CONSENT: Permission = { roles: ['owner', 'marketer', 'privacy'], scope: 'consent' };
const PRIVACY_READ: Permission = { roles: ['owner', 'privacy'], scope: 'read' };
const PRIVACY_CHANGE: Permission = { roles: ['owner', 'privacy'], scope: 'consent' };
const TRACKING_SETTINGS: Permission = { roles: ['owner', 'privacy'], scope: 'admin' };
// Consent webhooks send consent data to another system and hold a signing secret: the privacy officer's and owner's, read or change.
const WEBHOOKS: Permission = { roles: ['owner', 'privacy'], scope: 'admin' };
const PROJECT_ADMIN: Permission = { roles: ['owner'], scope: 'admin' };
const INSTALLATION: Permission = { roles: ['owner'], scope: null };
const OWN_ACCOUNT: Permission = { roles: ROLES, scope: null };

/**
 * Action → permission. Actions are named after the route (see `actionOf`):
 * `<resource>.<verb>` or `<resource>.<sub-path>`. `<resource>.*` covers every
 * action of a resource not listed on its own, `<resource>.changes` every
 * state-changing one. An action not listed at all falls back to `EVERYONE`
 * for reads and `MARKETING` for changes.
 */
export const PERMISSIONS: Readonly<Record<string, Permission>> = {
  'projects.read': EVERYONE,
  'projects.create': INSTALLATION,
  'projects.update': TRACKING_SETTINGS,
  'keys.*': PROJECT_ADMIN,
  'users.me': OWN_ACCOUNT,
  'users.*': INSTALLATION,
  'sessions.*': OWN_ACCOUNT,
  'contacts.read': EVERYONE,
  'contacts.consent-history': EVERYONE,
  'contacts.merge': MARKETING,
  'contacts.tracking-consent': CONSENT,
  'contacts.export': PRIVACY_READ,
  'contacts.delete': PRIVACY_CHANGE,
  'ledger.*': PRIVACY_READ,
  'audit-log.*': { roles: ['owner', 'privacy'], scope: 'admin' },
  'exports.*': EVERYONE,
  'messages.preview': PREVIEW,
  'messages.recipients': PREVIEW,
  'groups.count': PREVIEW,
  'injection-rules.example': PREVIEW,
  'forms.preview': PREVIEW,
  'imports.create': MARKETING,
  'messages.changes': MARKETING,
  'sendings.changes': MARKETING,
  'groups.changes': MARKETING,
  'score-models.changes': MARKETING,
  'campaigns.changes': MARKETING,
  'forms.changes': MARKETING,
  'injection-rules.changes': MARKETING,
  'events.changes': MARKETING,
  'webhooks.*': WEBHOOKS,
};

const VERBS: Record<string, string> = { GET: 'read', HEAD: 'read', POST: 'create', PUT: 'update', PATCH: 'update', DELETE: 'delete' };

export const isReadMethod = (method: string): boolean => method === 'GET' || method === 'HEAD' || method === 'OPTIONS';

/**
 * The action a route performs, from its method and pattern.
 *
 * @example actionOf('PUT', '/api/v1/projects/:pid/contacts/:cid/tracking-consent') // 'contacts.tracking-consent'
 * @example actionOf('DELETE', '/api/v1/projects/:pid/keys/:kid') // 'keys.delete'
 */
export function actionOf(method: string, route: string): string {
  const segments = route.replace(/^\/api\/v1\//, '').split('/').filter(Boolean);
  const inProject = segments[0] === 'projects' && segments[1]?.startsWith(':') && segments.length > 2;
  const rest = inProject ? segments.slice(2) : segments;
  const resource = rest[0] ?? 'api';
  const tail = rest.slice(1).filter((s) => !s.startsWith(':'));
  return `${resource}.${tail.length > 0 ? tail.join('.') : (VERBS[method] ?? 'read')}`;
}

/** The permission of an action: its own entry, its resource's `*` or `changes`, or the fallback. */
export function permissionOf(action: string, method: string): Permission {
  const resource = action.slice(0, action.indexOf('.'));
  const read = isReadMethod(method);
  return PERMISSIONS[action] ?? PERMISSIONS[`${resource}.*`] ?? (read ? EVERYONE : (PERMISSIONS[`${resource}.changes`] ?? MARKETING));
}

/** Who is asking, as far as the permission table is concerned. */
export type Caller = { kind: 'admin' } | { kind: 'key'; scopes: readonly Scope[] } | { kind: 'user'; role: Role };

/**
 * Whether the caller may perform the action. The admin key may do everything;
 * a project key needs the action's scope; a user needs one of its roles.
 *
 * @example isAllowed({ kind: 'user', role: 'viewer' }, permissionOf('contacts.merge', 'POST')) // false
 */
export function isAllowed(caller: Caller, permission: Permission): boolean {
  if (caller.kind === 'admin') return true;
  if (caller.kind === 'key') return permission.scope !== null && caller.scopes.includes(permission.scope);
  return permission.roles.includes(caller.role);
}

/** Parses a stored scope list (`read,write`), ignoring unknown words. */
export function readScopes(stored: string): Scope[] {
  return stored.split(',').filter((s): s is Scope => (SCOPES as readonly string[]).includes(s));
}
