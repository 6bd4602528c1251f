import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { data } from './data';
import type { components, paths } from './schema';

export type Group = paths['/api/v1/projects/{pid}/groups/{gid}']['get']['responses'][200]['content']['application/json'];
export type GroupMembers = paths['/api/v1/projects/{pid}/groups/{gid}/contacts']['get']['responses'][200]['content']['application/json'];
/** The API's criteria type (docs/criteria.md); the editor's JSON is sent as it, the server checks it clause by clause. */
type Criteria = components['schemas']['Criteria'];
export interface GroupInput {
  name: string;
  type: 'dynamic' | 'static';
  criteria: unknown;
}

export const groupKeys = {
  all: (pid: string) => ['projects', pid, 'groups'] as const,
  one: (pid: string, gid: string) => ['projects', pid, 'groups', gid] as const,
};

export function useGroups(pid: string) {
  return useQuery({
    queryKey: groupKeys.all(pid),
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/groups', { params: { path: { pid } } })).then((body) => body.items),
  });
}

export function useGroup(pid: string, gid: string | undefined) {
  return useQuery({
    queryKey: groupKeys.one(pid, gid ?? 'new'),
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/groups/{gid}', { params: { path: { pid, gid: gid! } } })),
    enabled: gid !== undefined,
  });
}

export function useSaveGroup(pid: string, gid: string | undefined) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (group: GroupInput) =>
      gid === undefined
        ? data(api.POST('/api/v1/projects/{pid}/groups', { params: { path: { pid } }, body: { ...group, criteria: group.criteria as Criteria } }))
        : data(api.PATCH('/api/v1/projects/{pid}/groups/{gid}', { params: { path: { pid, gid } }, body: { ...group, criteria: group.criteria as Criteria } })),
    onSuccess: (saved) => {
      queryClient.setQueryData(groupKeys.one(pid, saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: groupKeys.all(pid) });
    },
  });
}

export function useDeleteGroup(pid: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (gid: string) => api.DELETE('/api/v1/projects/{pid}/groups/{gid}', { params: { path: { pid, gid } } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: groupKeys.all(pid) }),
  });
}

/** The live count of an unsaved criteria tree; an invalid tree is the query's error (with the clause's path). */
export function useCriteriaCount(pid: string, criteria: unknown) {
  return useQuery({
    queryKey: ['projects', pid, 'criteria-count', criteria] as const,
    queryFn: () => data(api.POST('/api/v1/projects/{pid}/groups/count', { params: { path: { pid } }, body: { criteria: criteria as Criteria } })),
    placeholderData: keepPreviousData,
    retry: false,
  });
}

export function useGroupMembers(pid: string, gid: string, cursor: string | undefined) {
  return useQuery({
    queryKey: [...groupKeys.one(pid, gid), 'members', cursor ?? ''] as const,
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/groups/{gid}/contacts', { params: { path: { pid, gid }, query: { limit: 50, ...(cursor ? { cursor } : {}) } } })),
    placeholderData: keepPreviousData,
  });
}
