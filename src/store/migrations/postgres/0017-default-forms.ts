import { type Kysely, sql } from 'kysely';

// One default form per per-contact kind (issue 12 item 5): `is_default` marks the unsubscribe, tracking
// opt-out and profile form that messages' links open. Until now the newest form of a kind silently won,
// so each project's newest form of each of those kinds becomes its default: links open what they opened.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw('ALTER TABLE forms ADD COLUMN is_default BIGINT NOT NULL DEFAULT 0').execute(db);
  await sql
    .raw(
      `UPDATE forms SET is_default = 1
       WHERE kind IN ('unsubscribe', 'tracking-optout', 'profile')
         AND id = (SELECT MAX(f.id) FROM forms f WHERE f.project_id = forms.project_id AND f.kind = forms.kind)`,
    )
    .execute(db);
}
