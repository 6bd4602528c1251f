/**
 * Where to go after signing in: only a path inside the app (`/projects/1/contacts`),
 * never another origin (`//evil.example`, `/\evil.example`, `https://…`): no open redirect.
 */
export function safeNextPath(value: string | null): string {
  if (!value?.startsWith('/') || value.startsWith('//') || value.includes('\\') || value.startsWith('/login')) return '/projects';
  return value;
}
