import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { data } from './data';
import type { components, paths } from './schema';

export type Project = paths['/api/v1/projects/{pid}']['get']['responses'][200]['content']['application/json'];
export type { components };

export const projectKeys = {
  all: ['projects'] as const,
  one: (pid: string) => ['projects', pid] as const,
};

export function useProjects() {
  return useQuery({ queryKey: projectKeys.all, queryFn: () => data(api.GET('/api/v1/projects')).then((body) => body.items) });
}

export function useProject(pid: string) {
  return useQuery({ queryKey: projectKeys.one(pid), queryFn: () => data(api.GET('/api/v1/projects/{pid}', { params: { path: { pid } } })) });
}
