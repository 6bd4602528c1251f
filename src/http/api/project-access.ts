import type { AppContext } from '../../context.js';
import type { Principal, Project } from '../../services/projects.service.js';

/** Loads the project of a `/projects/:pid/…` route after checking the key may reach it (404 otherwise). */
export async function projectFor(ctx: AppContext, request: { principal: Principal }, pid: string): Promise<Project> {
  const id = Number(pid);
  ctx.projects.assertAccess(request.principal, id);
  return ctx.projects.get(id);
}
