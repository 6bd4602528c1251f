import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api } from './client';
import { data } from './data';
import type { paths } from './schema';

export type PickableContact = paths['/api/v1/projects/{pid}/contacts']['get']['responses'][200]['content']['application/json']['items'][number];

/** Contacts to choose from (a preview's values, a sending's recipients): the first page, or one email. */
export function usePickableContacts(pid: string, email: string) {
  return useQuery({
    queryKey: ['projects', pid, 'contacts', 'pick', email] as const,
    queryFn: () =>
      data(api.GET('/api/v1/projects/{pid}/contacts', { params: { path: { pid }, query: { limit: 100, ...(email ? { email } : {}) } } })).then((body) => body.items),
    placeholderData: keepPreviousData,
    retry: false,
  });
}
