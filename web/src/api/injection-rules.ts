import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { data } from './data';
import type { paths } from './schema';

export type InjectionRule = paths['/api/v1/projects/{pid}/injection-rules/{rid}']['get']['responses'][200]['content']['application/json'];
export type RuleInput = paths['/api/v1/projects/{pid}/injection-rules']['post']['requestBody']['content']['application/json'];
export type Example = paths['/api/v1/projects/{pid}/injection-rules/example']['post']['responses'][200]['content']['application/json'];
export type ExampleRequest = paths['/api/v1/projects/{pid}/injection-rules/example']['post']['requestBody']['content']['application/json'];

const keys = {
  all: (pid: string) => ['projects', pid, 'injection-rules'] as const,
  one: (pid: string, rid: string) => ['projects', pid, 'injection-rules', rid] as const,
};

export function useInjectionRules(pid: string) {
  return useQuery({
    queryKey: keys.all(pid),
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/injection-rules', { params: { path: { pid } } })).then((body) => body.items),
  });
}

export function useInjectionRule(pid: string, rid: string | undefined) {
  return useQuery({
    queryKey: keys.one(pid, rid ?? 'new'),
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/injection-rules/{rid}', { params: { path: { pid, rid: rid! } } })),
    enabled: rid !== undefined,
  });
}

export function useSaveInjectionRule(pid: string, rid: string | undefined) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (rule: RuleInput) =>
      rid === undefined
        ? data(api.POST('/api/v1/projects/{pid}/injection-rules', { params: { path: { pid } }, body: rule }))
        : data(api.PATCH('/api/v1/projects/{pid}/injection-rules/{rid}', { params: { path: { pid, rid } }, body: rule })),
    onSuccess: (saved) => {
      queryClient.setQueryData(keys.one(pid, saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: keys.all(pid), exact: true });
    },
  });
}

export function useDeleteInjectionRule(pid: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (rid: string) => api.DELETE('/api/v1/projects/{pid}/injection-rules/{rid}', { params: { path: { pid, rid } } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.all(pid), exact: true }),
  });
}

/** The URL a tracked and an anonymous click would be sent to under the draft rule. */
export function useInjectionExample(pid: string, request: ExampleRequest | null) {
  return useQuery({
    queryKey: ['projects', pid, 'injection-example', request] as const,
    queryFn: () => data(api.POST('/api/v1/projects/{pid}/injection-rules/example', { params: { path: { pid } }, body: request! })),
    enabled: request !== null,
    placeholderData: keepPreviousData,
    retry: false,
  });
}
