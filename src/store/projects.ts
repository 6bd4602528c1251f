import type { Selectable } from 'kysely';
import { type ProjectSettings, readSettings } from '../domain/project-settings.js';
import type { Db } from './database.js';
import type { ProjectTable } from './schema.js';

/* The projects repository. */

export interface Project {
  id: number;
  name: string;
  settings: ProjectSettings;
  ledgerSalt: string;
  createdAt: number;
  updatedAt: number;
}

export function toProject(row: Selectable<ProjectTable>): Project {
  return {
    id: row.id,
    name: row.name,
    settings: readSettings(row.settings),
    ledgerSalt: row.ledger_salt,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function insertProject(trx: Db, project: { name: string; settings: ProjectSettings; ledgerSalt: string }, now: number): Promise<number> {
  const row = await trx
    .insertInto('projects')
    .values({ name: project.name, settings: JSON.stringify(project.settings), ledger_salt: project.ledgerSalt, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function listProjects(db: Db): Promise<Project[]> {
  const rows = await db.selectFrom('projects').selectAll().orderBy('id').execute();
  return rows.map(toProject);
}

export async function getProject(db: Db, projectId: number): Promise<Project | undefined> {
  const row = await db.selectFrom('projects').selectAll().where('id', '=', projectId).executeTakeFirst();
  return row && toProject(row);
}

export async function updateProject(db: Db, projectId: number, change: { name: string; settings: ProjectSettings }, now: number): Promise<void> {
  await db.updateTable('projects').set({ name: change.name, settings: JSON.stringify(change.settings), updated_at: now }).where('id', '=', projectId).execute();
}
