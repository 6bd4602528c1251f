import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { data } from './data';
import type { paths } from './schema';

export type HostedForm = paths['/api/v1/projects/{pid}/forms/{fid}']['get']['responses'][200]['content']['application/json'];
export type FormKind = HostedForm['kind'];
export type NewForm = paths['/api/v1/projects/{pid}/forms']['post']['requestBody']['content']['application/json'];
export type FormPatch = paths['/api/v1/projects/{pid}/forms/{fid}']['patch']['requestBody']['content']['application/json'];
export type FormPreviewRequest = paths['/api/v1/projects/{pid}/forms/preview']['post']['requestBody']['content']['application/json'];
export type FormTexts = NonNullable<NewForm['texts']>;

const keys = {
  all: (pid: string) => ['projects', pid, 'forms'] as const,
  one: (pid: string, fid: string) => ['projects', pid, 'forms', fid] as const,
};

export function useForms(pid: string) {
  return useQuery({
    queryKey: keys.all(pid),
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/forms', { params: { path: { pid } } })).then((body) => body.items),
  });
}

export function useForm(pid: string, fid: string | undefined) {
  return useQuery({
    queryKey: keys.one(pid, fid ?? 'new'),
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/forms/{fid}', { params: { path: { pid, fid: fid! } } })),
    enabled: fid !== undefined,
  });
}

export function useSaveForm(pid: string, fid: string | undefined) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (form: NewForm) => {
      if (fid === undefined) return data(api.POST('/api/v1/projects/{pid}/forms', { params: { path: { pid } }, body: form }));
      const { kind: _fixed, ...patch } = form;
      return data(api.PATCH('/api/v1/projects/{pid}/forms/{fid}', { params: { path: { pid, fid } }, body: patch }));
    },
    onSuccess: (saved) => {
      queryClient.setQueryData(keys.one(pid, saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: keys.all(pid), exact: true });
    },
  });
}

export function useDeleteForm(pid: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (fid: string) => api.DELETE('/api/v1/projects/{pid}/forms/{fid}', { params: { path: { pid, fid } } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.all(pid), exact: true }),
  });
}

/** Exactly the page the hosted form serves, in one language, with the unsaved changes. */
export function useFormPreview(pid: string, request: FormPreviewRequest | null) {
  return useQuery({
    queryKey: ['projects', pid, 'form-preview', request] as const,
    queryFn: () => data(api.POST('/api/v1/projects/{pid}/forms/preview', { params: { path: { pid } }, body: request! })),
    enabled: request !== null,
    placeholderData: keepPreviousData,
    retry: false,
  });
}
