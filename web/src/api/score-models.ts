import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { data } from './data';
import type { components, paths } from './schema';

/** The API's rules type (docs/criteria.md#score-rules); the editor's JSON is sent as it, the server checks it rule by rule. */
type Rules = components['schemas']['ScoreRules'];

export type ScoreModel = paths['/api/v1/projects/{pid}/score-models/{mid}']['get']['responses'][200]['content']['application/json'];
export type Distribution = paths['/api/v1/projects/{pid}/score-models/{mid}/distribution']['get']['responses'][200]['content']['application/json'];

const keys = {
  all: (pid: string) => ['projects', pid, 'score-models'] as const,
  one: (pid: string, mid: string) => ['projects', pid, 'score-models', mid] as const,
};

export function useScoreModels(pid: string) {
  return useQuery({
    queryKey: keys.all(pid),
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/score-models', { params: { path: { pid } } })).then((body) => body.items),
  });
}

export function useScoreModel(pid: string, mid: string | undefined) {
  return useQuery({
    queryKey: keys.one(pid, mid ?? 'new'),
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/score-models/{mid}', { params: { path: { pid, mid: mid! } } })),
    enabled: mid !== undefined,
  });
}

export function useSaveScoreModel(pid: string, mid: string | undefined) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (model: { name: string; rules: unknown }) =>
      mid === undefined
        ? data(api.POST('/api/v1/projects/{pid}/score-models', { params: { path: { pid } }, body: { ...model, rules: model.rules as Rules } }))
        : data(api.PATCH('/api/v1/projects/{pid}/score-models/{mid}', { params: { path: { pid, mid } }, body: { ...model, rules: model.rules as Rules } })),
    onSuccess: (saved) => {
      queryClient.setQueryData(keys.one(pid, saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: keys.all(pid), exact: true });
      void queryClient.invalidateQueries({ queryKey: [...keys.one(pid, saved.id), 'distribution'] });
    },
  });
}

export function useDistribution(pid: string, mid: string | undefined) {
  return useQuery({
    queryKey: [...keys.one(pid, mid ?? 'new'), 'distribution'] as const,
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/score-models/{mid}/distribution', { params: { path: { pid, mid: mid! }, query: { buckets: 10 } } })),
    enabled: mid !== undefined,
  });
}
