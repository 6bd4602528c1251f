import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, rawRequest } from './client';
import { data } from './data';
import { downloadFile } from './download';
import type { paths } from './schema';

export type ImportRecord = paths['/api/v1/projects/{pid}/imports/{iid}']['get']['responses'][200]['content']['application/json'];
export type ImportType = 'upsert' | 'add-only' | 'update-only';
export const IMPORT_TYPES: readonly ImportType[] = ['upsert', 'add-only', 'update-only'];

export const importKeys = {
  all: (pid: string) => ['imports', pid] as const,
  list: (pid: string, cursor: string | undefined) => ['imports', pid, 'list', cursor ?? ''] as const,
  one: (pid: string, iid: string) => ['imports', pid, 'one', iid] as const,
};

/** How often a running import is asked for its progress. */
export const PROGRESS_POLL_MS = 500;

export function useImports(pid: string, cursor: string | undefined) {
  return useQuery({
    queryKey: importKeys.list(pid, cursor),
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/imports', { params: { path: { pid }, query: { limit: 25, ...(cursor ? { cursor } : {}) } } })),
    placeholderData: keepPreviousData,
    // A running import in the list moves on by itself.
    refetchInterval: (query) => (query.state.data?.items.some((i) => i.status === 'running') ? 2000 : false),
  });
}

/** One import; polled while it runs, so its rows and pace move on screen. */
export function useImport(pid: string, iid: string) {
  return useQuery({
    queryKey: importKeys.one(pid, iid),
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/imports/{iid}', { params: { path: { pid, iid } } })),
    refetchInterval: (query) => (query.state.data?.status === 'running' ? PROGRESS_POLL_MS : false),
  });
}

export interface StartImport {
  file: File;
  type: ImportType;
  /** `Column:target,…` */
  map: string;
  delimiter: string;
}

/** Uploads the CSV and starts the import; answers as soon as it runs (`async=true`), with its record. */
export function useStartImport(pid: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ file, type, map, delimiter }: StartImport): Promise<ImportRecord> => {
      const query = new URLSearchParams({ async: 'true', type, map, fileName: file.name.slice(0, 255) });
      if (delimiter) query.set('delimiter', delimiter);
      const response = await rawRequest('POST', `/api/v1/projects/${encodeURIComponent(pid)}/imports?${query}`, file, 'text/csv');
      return (await response.json()) as ImportRecord;
    },
    onSuccess: (record) => {
      queryClient.setQueryData(importKeys.one(pid, record.id), record);
      void queryClient.invalidateQueries({ queryKey: importKeys.all(pid) });
      void queryClient.invalidateQueries({ queryKey: ['contacts', pid] });
    },
  });
}

export function useDownloadRejected(pid: string, iid: string) {
  return useMutation({
    mutationFn: () => downloadFile(`/api/v1/projects/${encodeURIComponent(pid)}/imports/${encodeURIComponent(iid)}/rejected`, `import-${iid}-rejected.csv`),
  });
}
