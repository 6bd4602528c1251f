import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, retryUnlessRefused } from './client';
import { data } from './data';
import type { paths } from './schema';

type MessagesPath = paths['/api/v1/projects/{pid}/messages'];
export type Message = MessagesPath['get']['responses'][200]['content']['application/json']['items'][number];
export type NewMessage = MessagesPath['post']['requestBody']['content']['application/json'];
export type MessagePatch = paths['/api/v1/projects/{pid}/messages/{mid}']['patch']['requestBody']['content']['application/json'];
export type Channel = Message['channel'];
export type Draft = paths['/api/v1/projects/{pid}/messages/preview']['post']['requestBody']['content']['application/json'];
export type Preview = paths['/api/v1/projects/{pid}/messages/preview']['post']['responses'][200]['content']['application/json'];
export type Target = paths['/api/v1/projects/{pid}/sendings']['post']['requestBody']['content']['application/json']['target'];
export type RecipientCount = paths['/api/v1/projects/{pid}/messages/{mid}/recipients']['post']['responses'][200]['content']['application/json'];

export const messageKeys = {
  all: (pid: string) => ['projects', pid, 'messages'] as const,
  one: (pid: string, mid: string) => ['projects', pid, 'messages', mid] as const,
};

export function useMessages(pid: string) {
  return useQuery({
    queryKey: messageKeys.all(pid),
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/messages', { params: { path: { pid } } })).then((body) => body.items),
  });
}

export function useMessage(pid: string, mid: string | undefined) {
  return useQuery({
    queryKey: messageKeys.one(pid, mid ?? 'new'),
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/messages/{mid}', { params: { path: { pid, mid: mid! } } })),
    enabled: mid !== undefined,
  });
}

export function useSaveMessage(pid: string, mid: string | undefined) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (message: NewMessage) => {
      if (mid === undefined) return data(api.POST('/api/v1/projects/{pid}/messages', { params: { path: { pid } }, body: message }));
      const { channel: _fixed, ...patch } = message;
      return data(api.PATCH('/api/v1/projects/{pid}/messages/{mid}', { params: { path: { pid, mid } }, body: patch }));
    },
    onSuccess: (saved) => {
      queryClient.setQueryData(messageKeys.one(pid, saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: messageKeys.all(pid), exact: true });
    },
  });
}

/**
 * The draft as a chosen contact (or sample values) would get it. Kept while the next one loads,
 * so the preview does not flicker as the user types; a bad merge tag is the query's error.
 */
export function usePreview(pid: string, draft: Draft | null) {
  return useQuery({
    queryKey: ['projects', pid, 'message-preview', draft] as const,
    queryFn: () => data(api.POST('/api/v1/projects/{pid}/messages/preview', { params: { path: { pid } }, body: draft! })),
    enabled: draft !== null,
    placeholderData: keepPreviousData,
    retry: retryUnlessRefused,
  });
}

/** How many contacts a sending to the target would reach, tracked and untracked. */
export function useRecipientCount(pid: string, mid: string | undefined, target: Target | null) {
  return useQuery({
    queryKey: ['projects', pid, 'messages', mid, 'recipients', target] as const,
    queryFn: () => data(api.POST('/api/v1/projects/{pid}/messages/{mid}/recipients', { params: { path: { pid, mid: mid! } }, body: { target: target! } })),
    enabled: mid !== undefined && target !== null,
    retry: retryUnlessRefused,
  });
}

export function useSend(pid: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { messageId: string; target: Target }) => data(api.POST('/api/v1/projects/{pid}/sendings', { params: { path: { pid } }, body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['projects', pid, 'sendings'] }),
  });
}
