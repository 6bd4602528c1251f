import type { Selectable } from 'kysely';
import type { Form, FormKind, FormSpec } from '../domain/form.js';
import type { Db } from './database.js';
import type { FormTable } from './schema.js';

function toForm(row: Selectable<FormTable>): Form {
  return {
    id: row.id,
    projectId: row.project_id,
    kind: row.kind as FormKind,
    name: row.name,
    spec: JSON.parse(row.spec) as FormSpec,
    isDefault: Number(row.is_default) === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function insertForm(db: Db, projectId: number, form: { kind: FormKind; name: string; spec: FormSpec }, now: number): Promise<Form> {
  const row = await db
    .insertInto('forms')
    .values({ project_id: projectId, kind: form.kind, name: form.name, spec: JSON.stringify(form.spec), created_at: now, updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toForm(row);
}

export async function listForms(db: Db, projectId: number): Promise<Form[]> {
  const rows = await db.selectFrom('forms').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
  return rows.map(toForm);
}

export async function getForm(db: Db, projectId: number, formId: number): Promise<Form | undefined> {
  const row = await db.selectFrom('forms').selectAll().where('project_id', '=', projectId).where('id', '=', formId).executeTakeFirst();
  return row && toForm(row);
}

/**
 * A form found by its id alone. Only the public subscription page does this:
 * its URL (`/f/subscribe/<id>`) names the form, not the project, and form ids
 * are unique across projects.
 */
export async function getFormById(db: Db, formId: number): Promise<Form | undefined> {
  const row = await db.selectFrom('forms').selectAll().where('id', '=', formId).executeTakeFirst();
  return row && toForm(row);
}

/** The project's default form of a per-contact kind, if it chose one. */
export async function defaultFormOfKind(db: Db, projectId: number, kind: FormKind): Promise<Form | undefined> {
  const row = await db.selectFrom('forms').selectAll().where('project_id', '=', projectId).where('kind', '=', kind).where('is_default', '=', 1).limit(1).executeTakeFirst();
  return row && toForm(row);
}

/** Makes `formId` the one default form of its kind (or, with `isDefault` false, no longer the default). */
export async function setDefaultForm(db: Db, projectId: number, kind: FormKind, formId: number, isDefault: boolean): Promise<void> {
  if (isDefault) {
    await db.updateTable('forms').set({ is_default: 0 }).where('project_id', '=', projectId).where('kind', '=', kind).where('id', '!=', formId).execute();
  }
  await db.updateTable('forms').set({ is_default: isDefault ? 1 : 0 }).where('project_id', '=', projectId).where('id', '=', formId).execute();
}

export async function updateForm(db: Db, form: Form): Promise<void> {
  await db
    .updateTable('forms')
    .set({ name: form.name, spec: JSON.stringify(form.spec), updated_at: form.updatedAt })
    .where('project_id', '=', form.projectId)
    .where('id', '=', form.id)
    .execute();
}

export async function deleteForm(db: Db, projectId: number, formId: number): Promise<boolean> {
  const result = await db.deleteFrom('forms').where('project_id', '=', projectId).where('id', '=', formId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
