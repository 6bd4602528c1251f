import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { data } from './data';
import type { paths } from './schema';

/** The API's entry and nodes types (docs/campaigns.md); the editor's JSON is sent as them, the server checks every node. */
type CreateBody = paths['/api/v1/projects/{pid}/campaigns']['post']['requestBody']['content']['application/json'];
type PatchBody = paths['/api/v1/projects/{pid}/campaigns/{cid}']['patch']['requestBody']['content']['application/json'];

export type Campaign = paths['/api/v1/projects/{pid}/campaigns/{cid}']['get']['responses'][200]['content']['application/json'];
export type CampaignStats = paths['/api/v1/projects/{pid}/campaigns/{cid}/stats']['get']['responses'][200]['content']['application/json'];
export interface CampaignInput {
  name: string;
  entry: unknown;
  start: string;
  nodes: unknown[];
}

const keys = {
  all: (pid: string) => ['projects', pid, 'campaigns'] as const,
  one: (pid: string, cid: string) => ['projects', pid, 'campaigns', cid] as const,
};

export function useCampaigns(pid: string) {
  return useQuery({
    queryKey: keys.all(pid),
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/campaigns', { params: { path: { pid } } })).then((body) => body.items),
  });
}

export function useCampaign(pid: string, cid: string | undefined) {
  return useQuery({
    queryKey: keys.one(pid, cid ?? 'new'),
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/campaigns/{cid}', { params: { path: { pid, cid: cid! } } })),
    enabled: cid !== undefined,
  });
}

export function useCampaignStats(pid: string, cid: string | undefined, running: boolean) {
  return useQuery({
    queryKey: [...keys.one(pid, cid ?? 'new'), 'stats'] as const,
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/campaigns/{cid}/stats', { params: { path: { pid, cid: cid! } } })),
    enabled: cid !== undefined,
    refetchInterval: running ? 3000 : false,
  });
}

export function useSaveCampaign(pid: string, cid: string | undefined) {
  const queryClient = useQueryClient();
  return useMutation({
    /** A draft saves everything; a started campaign only its name. */
    mutationFn: (campaign: CampaignInput | Pick<CampaignInput, 'name'>) =>
      cid === undefined
        ? data(api.POST('/api/v1/projects/{pid}/campaigns', { params: { path: { pid } }, body: campaign as CreateBody }))
        : data(api.PATCH('/api/v1/projects/{pid}/campaigns/{cid}', { params: { path: { pid, cid } }, body: campaign as PatchBody })),
    onSuccess: (saved) => {
      queryClient.setQueryData(keys.one(pid, saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: keys.all(pid), exact: true });
    },
  });
}

/** Start (a draft, or resume a paused one) or pause. */
export function useCampaignAction(pid: string, cid: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (action: 'start' | 'pause') =>
      action === 'start'
        ? data(api.POST('/api/v1/projects/{pid}/campaigns/{cid}/start', { params: { path: { pid, cid } } }))
        : data(api.POST('/api/v1/projects/{pid}/campaigns/{cid}/pause', { params: { path: { pid, cid } } })),
    onSuccess: (saved) => {
      queryClient.setQueryData(keys.one(pid, cid), saved);
      void queryClient.invalidateQueries({ queryKey: keys.all(pid), exact: true });
      void queryClient.invalidateQueries({ queryKey: [...keys.one(pid, cid), 'stats'] });
    },
  });
}
