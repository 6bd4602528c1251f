export type ContactStatus = 'active' | 'inactive' | 'quarantine';
export const CONTACT_STATUSES: readonly ContactStatus[] = ['active', 'inactive', 'quarantine'];

/** A contact as the services see it (dates in epoch ms). */
export interface Contact {
  id: number;
  projectId: number;
  email: string | null;
  externalId: string | null;
  phone: string | null;
  fields: Record<string, unknown>;
  status: ContactStatus;
  hasTrackingConsent: boolean | null;
  dtTrackingConsent: number | null;
  createdAt: number;
  updatedAt: number;
}

const EMAIL = /^[^\s@"<>(),;:\\[\]]+@[^\s@"<>(),;:\\[\]]+\.[^\s@"<>(),;:\\[\].]{2,}$/;

/**
 * Emails are unique per project after trimming and lower-casing.
 *
 * @example normalizeEmail('  Ana@Example.COM ') // 'ana@example.com'
 */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * A deliberately plain address check: one `@`, no spaces, a dotted domain.
 *
 * @example isValidEmail('ana@example.com') // true
 */
export function isValidEmail(email: string): boolean {
  return email.length <= 254 && EMAIL.test(email);
}
