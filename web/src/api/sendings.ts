import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api } from './client';
import { data } from './data';
import type { paths } from './schema';

export type Sending = paths['/api/v1/projects/{pid}/sendings/{sid}']['get']['responses'][200]['content']['application/json'];
export type Report = paths['/api/v1/projects/{pid}/sendings/{sid}/report']['get']['responses'][200]['content']['application/json'];
export type TrackedContactsPage = paths['/api/v1/projects/{pid}/sendings/{sid}/contacts']['get']['responses'][200]['content']['application/json'];

const RUNNING = new Set(['queued', 'sending']);
export const isRunning = (status: string | undefined): boolean => status !== undefined && RUNNING.has(status);

export const sendingKeys = {
  all: (pid: string) => ['projects', pid, 'sendings'] as const,
  one: (pid: string, sid: string) => ['projects', pid, 'sendings', sid] as const,
};

export function useSendings(pid: string) {
  return useQuery({
    queryKey: sendingKeys.all(pid),
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/sendings', { params: { path: { pid } } })).then((body) => body.items),
    refetchInterval: (query) => (query.state.data?.some((s) => isRunning(s.status)) ? 2000 : false),
  });
}

/** A sending, polled every second while it is being sent. */
export function useSending(pid: string, sid: string) {
  return useQuery({
    queryKey: sendingKeys.one(pid, sid),
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/sendings/{sid}', { params: { path: { pid, sid } } })),
    refetchInterval: (query) => (isRunning(query.state.data?.status) ? 1000 : false),
  });
}

/** The results: every few seconds while the page is open, since opens and clicks keep arriving. */
export function useReport(pid: string, sid: string, running: boolean) {
  return useQuery({
    queryKey: [...sendingKeys.one(pid, sid), 'report'] as const,
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/sendings/{sid}/report', { params: { path: { pid, sid } } })),
    refetchInterval: running ? 1500 : 5000,
    refetchIntervalInBackground: false,
  });
}

/** One page of the tracked contacts (untracked ones are never listed by the API). */
export function useTrackedContacts(pid: string, sid: string, cursor: string | undefined, limit: number) {
  return useQuery({
    queryKey: [...sendingKeys.one(pid, sid), 'contacts', cursor ?? '', limit] as const,
    queryFn: () =>
      data(api.GET('/api/v1/projects/{pid}/sendings/{sid}/contacts', { params: { path: { pid, sid }, query: { limit, ...(cursor ? { cursor } : {}) } } })),
    placeholderData: keepPreviousData,
    refetchInterval: 5000,
    refetchIntervalInBackground: false,
  });
}
