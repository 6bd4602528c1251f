import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { data } from './data';
import type { paths } from './schema';

export type TrackingStatus = 'accepted' | 'refused' | 'unanswered';
export const TRACKING_STATUSES: readonly TrackingStatus[] = ['accepted', 'refused', 'unanswered'];
export type ContactCard = paths['/api/v1/projects/{pid}/contacts/{cid}']['get']['responses'][200]['content']['application/json'];
export type ContactRow = paths['/api/v1/projects/{pid}/contacts']['get']['responses'][200]['content']['application/json']['items'][number];
export type ConsentEntry = ContactCard['consentHistory'][number];

export const contactKeys = {
  all: (pid: string) => ['contacts', pid] as const,
  list: (pid: string, query: ContactListQuery) => ['contacts', pid, 'list', query] as const,
  counts: (pid: string) => ['contacts', pid, 'counts'] as const,
  one: (pid: string, cid: string) => ['contacts', pid, 'one', cid] as const,
};

export interface ContactListQuery {
  search?: string | undefined;
  trackingStatus?: TrackingStatus | undefined;
  cursor?: string | undefined;
  limit: number;
}

/** One page of contacts; the previous page stays on screen while the next one loads. */
export function useContacts(pid: string, query: ContactListQuery) {
  return useQuery({
    queryKey: contactKeys.list(pid, query),
    queryFn: () =>
      data(
        api.GET('/api/v1/projects/{pid}/contacts', {
          params: {
            path: { pid },
            query: {
              limit: query.limit,
              ...(query.search ? { search: query.search } : {}),
              ...(query.trackingStatus ? { trackingStatus: query.trackingStatus } : {}),
              ...(query.cursor ? { cursor: query.cursor } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
}

export function useContactCounts(pid: string) {
  return useQuery({ queryKey: contactKeys.counts(pid), queryFn: () => data(api.GET('/api/v1/projects/{pid}/contacts/counts', { params: { path: { pid } } })) });
}

export function useContact(pid: string, cid: string) {
  return useQuery({
    queryKey: contactKeys.one(pid, cid),
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/contacts/{cid}', { params: { path: { pid, cid } } })),
    enabled: cid !== '',
  });
}

/** Accepts or refuses tracking for one contact as the signed-in user (recorded `admin:<email>` by the server). */
export function useSetTrackingConsent(pid: string, cid: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (consent: boolean) => data(api.PUT('/api/v1/projects/{pid}/contacts/{cid}/tracking-consent', { params: { path: { pid, cid } }, body: { consent } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: contactKeys.all(pid) }),
  });
}

export function useScoreModels(pid: string, enabled: boolean) {
  return useQuery({
    queryKey: ['score-models', pid],
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/score-models', { params: { path: { pid } } })).then((body) => body.items),
    enabled,
  });
}
