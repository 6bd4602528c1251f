import type { MappingEntry } from '../domain/import-mapping.js';
import type { ImportRow } from '../store/imports.js';
import type { MergeType } from './contacts.service.js';

export type ImportStatus = 'running' | 'done' | 'failed';

export interface ImportCounts {
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  consentApplied: number;
  consentStale: number;
  rejected: number;
}

/** An import as the API and the CLI report it (dates in epoch ms). */
export interface Import {
  id: number;
  projectId: number;
  fileName: string | null;
  type: MergeType;
  mapping: MappingEntry[];
  delimiter: string;
  actor: string;
  status: ImportStatus;
  counts: ImportCounts;
  error: string | null;
  startedAt: number;
  finishedAt: number | null;
}

/** The counts as the `imports` table stores them. */
export function countColumns(counts: ImportCounts) {
  return {
    rows: counts.rows,
    created: counts.created,
    updated: counts.updated,
    unchanged: counts.unchanged,
    consent_applied: counts.consentApplied,
    consent_stale: counts.consentStale,
    rejected: counts.rejected,
  };
}

export function toImport(row: ImportRow): Import {
  return {
    id: row.id,
    projectId: row.project_id,
    fileName: row.file_name,
    type: row.type as MergeType,
    mapping: JSON.parse(row.mapping) as MappingEntry[],
    delimiter: row.delimiter,
    actor: row.actor,
    status: row.status as ImportStatus,
    counts: {
      rows: row.rows,
      created: row.created,
      updated: row.updated,
      unchanged: row.unchanged,
      consentApplied: row.consent_applied,
      consentStale: row.consent_stale,
      rejected: row.rejected,
    },
    error: row.error,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
