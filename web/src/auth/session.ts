import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api, setCsrfToken } from '../api/client';
import { data } from '../api/data';
import type { paths } from '../api/schema';
import { applyLanguage, isLanguage, type Language } from '../i18n';

type SessionBody = paths['/api/v1/sessions/current']['get']['responses'][200]['content']['application/json'];
export type SessionUser = SessionBody['user'];
export type Role = SessionUser['role'];

export const SESSION_KEY = ['session'] as const;

async function readSession(call: Promise<{ data?: SessionBody }>): Promise<SessionUser> {
  const body = await data(call);
  setCsrfToken(body.csrfToken);
  if (isLanguage(body.user.language)) await applyLanguage(body.user.language);
  return body.user;
}

/** The signed-in user, or null when there is no session (401). */
async function currentSession(): Promise<SessionUser | null> {
  try {
    return await readSession(api.GET('/api/v1/sessions/current'));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      setCsrfToken(null);
      return null;
    }
    throw error;
  }
}

/**
 * The session, asked once of the server. `probe: false` only reads what is known
 * (the sign-in page: asking there would log a 401 in the console for nothing).
 */
export function useSession({ probe = true }: { probe?: boolean } = {}) {
  return useQuery({ queryKey: SESSION_KEY, queryFn: currentSession, staleTime: Number.POSITIVE_INFINITY, retry: false, enabled: probe });
}

/** The signed-in user; only for components rendered under `RequireSession`. */
export function useUser(): SessionUser {
  const { data } = useSession();
  if (!data) throw new Error('useUser outside a signed-in page');
  return data;
}

export function useSignIn() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (credentials: { email: string; password: string }) =>
      readSession(api.POST('/api/v1/sessions', { body: credentials })),
    onSuccess: (user) => queryClient.setQueryData(SESSION_KEY, user),
  });
}

export function useSignOut() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () => {
      await api.DELETE('/api/v1/sessions/current');
    },
    onSettled: () => {
      setCsrfToken(null);
      queryClient.clear();
      queryClient.setQueryData(SESSION_KEY, null);
    },
  });
}

/** Switches the language now and keeps it as the user's choice (PATCH users/me) when signed in. */
export function useChooseLanguage() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (language: Language) => {
      await applyLanguage(language);
      const user = queryClient.getQueryData<SessionUser | null>(SESSION_KEY);
      if (!user) return;
      await api.PATCH('/api/v1/users/me', { body: { language } });
      queryClient.setQueryData(SESSION_KEY, { ...user, language });
    },
  });
}
