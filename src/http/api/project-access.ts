import type { AppContext } from '../../context.js';
import type { Principal, Project } from '../../services/projects.service.js';

/** The project id of a `/projects/:pid/…` route, after checking the key may reach it (404 otherwise). */
export function projectIdFor(ctx: AppContext, request: { principal: Principal }, pid: string): number {
  const id = Number(pid);
  ctx.projects.assertAccess(request.principal, id);
  return id;
}

/** Loads the project of a `/projects/:pid/…` route after checking the key may reach it (404 otherwise). */
export async function projectFor(ctx: AppContext, request: { principal: Principal }, pid: string): Promise<Project> {
  return ctx.projects.get(projectIdFor(ctx, request, pid));
}
