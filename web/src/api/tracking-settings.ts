import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { data } from './data';
import { type Project, projectKeys } from './projects';
import type { paths } from './schema';

type ProjectPatch = NonNullable<paths['/api/v1/projects/{pid}']['patch']['requestBody']>['content']['application/json'];

/** Saves the project's tracking settings and retention; the projects list and the project refresh. */
export function useSaveTrackingSettings(pid: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (patch: Pick<ProjectPatch, 'tracking' | 'retentionDays'>) => data(api.PATCH('/api/v1/projects/{pid}', { params: { path: { pid } }, body: patch })),
    onSuccess: (project: Project) => {
      queryClient.setQueryData(projectKeys.one(pid), project);
      void queryClient.invalidateQueries({ queryKey: projectKeys.all, exact: true });
      // Tracked now / untracked counts follow the mode.
      void queryClient.invalidateQueries({ queryKey: ['contacts', pid] });
    },
  });
}
