import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { data } from './data';
import type { paths } from './schema';

export type Home = paths['/api/v1/projects/{pid}/dashboard']['get']['responses'][200]['content']['application/json'];
export type ConsentDashboard = paths['/api/v1/projects/{pid}/consent-dashboard']['get']['responses'][200]['content']['application/json'];

export function useHome(pid: string) {
  return useQuery({
    queryKey: ['projects', pid, 'dashboard'] as const,
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/dashboard', { params: { path: { pid }, query: { sendings: 8 } } })),
    refetchInterval: (query) => (query.state.data?.sendings.some((s) => s.status === 'queued' || s.status === 'sending') ? 2000 : false),
  });
}

export function useConsentDashboard(pid: string, days: number) {
  return useQuery({
    queryKey: ['projects', pid, 'consent-dashboard', days] as const,
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/consent-dashboard', { params: { path: { pid }, query: { days, sendings: 10 } } })),
  });
}
