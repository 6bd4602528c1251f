import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { contactKeys } from './contacts';
import { data } from './data';
import { downloadFile } from './download';
import type { paths } from './schema';

export type AuditEntry = paths['/api/v1/projects/{pid}/audit-log']['get']['responses'][200]['content']['application/json']['items'][number];
export type LedgerReport = paths['/api/v1/projects/{pid}/ledger/verify']['post']['responses'][200]['content']['application/json'];

export type ErasureReceipt = paths['/api/v1/projects/{pid}/contacts/{cid}']['delete']['responses'][200]['content']['application/json'];

export interface AuditFilter {
  actor?: string | undefined;
  action?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}

/** The audit log, newest first; `cursor` pages towards older entries. */
export function useAuditLog(pid: string, filter: AuditFilter, cursor: string | undefined, enabled: boolean) {
  return useQuery({
    queryKey: ['audit-log', pid, filter, cursor ?? ''],
    queryFn: () => {
      const query: NonNullable<paths['/api/v1/projects/{pid}/audit-log']['get']['parameters']['query']> = { limit: 50 };
      if (filter.actor) query.actor = filter.actor;
      if (filter.action) query.action = filter.action;
      if (filter.since) query.since = filter.since;
      if (filter.until) query.until = filter.until;
      if (cursor) query.cursor = cursor;
      return data(api.GET('/api/v1/projects/{pid}/audit-log', { params: { path: { pid }, query } }));
    },
    placeholderData: keepPreviousData,
    enabled,
  });
}

export function useVerifyLedger(pid: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => data(api.POST('/api/v1/projects/{pid}/ledger/verify', { params: { path: { pid } } })),
    // The verification is itself in the audit log.
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['audit-log', pid] }),
  });
}

/** Finds the contact an access or erasure request is about: by exact email, or by exact external id. */
export function useFindContact(pid: string) {
  return useMutation({
    mutationFn: async (text: string) => {
      const wanted = text.trim();
      if (wanted.includes('@')) {
        const page = await data(api.GET('/api/v1/projects/{pid}/contacts', { params: { path: { pid }, query: { email: wanted, limit: 1 } } }));
        return page.items[0] ?? null;
      }
      const page = await data(api.GET('/api/v1/projects/{pid}/contacts', { params: { path: { pid }, query: { search: wanted, limit: 100 } } }));
      return page.items.find((c) => c.externalId === wanted) ?? null;
    },
  });
}

export function useDownloadExport(pid: string) {
  return useMutation({
    mutationFn: (cid: string) => downloadFile(`/api/v1/projects/${encodeURIComponent(pid)}/contacts/${encodeURIComponent(cid)}/export`, `contact-${cid}.json`),
  });
}

export function useEraseContact(pid: string) {
  const queryClient = useQueryClient();
  return useMutation({
    // The receipt: what the erasure removed, when, and the ledger position that keeps its proof.
    mutationFn: (cid: string): Promise<ErasureReceipt> => data(api.DELETE('/api/v1/projects/{pid}/contacts/{cid}', { params: { path: { pid, cid } } })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: contactKeys.all(pid) });
      void queryClient.invalidateQueries({ queryKey: ['audit-log', pid] });
    },
  });
}
