import { actionOf, isAllowed, permissionOf } from '../../../src/domain/permissions';
import { useSession } from './session';

/**
 * Whether the signed-in user's role may call a route, read from the API's own
 * permission table (src/domain/permissions.ts): the app hides exactly what the API would refuse.
 *
 * @example const may = useMay(); may('PUT', '/api/v1/projects/:pid/contacts/:cid/tracking-consent')
 */
export function useMay(): (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', route: string) => boolean {
  // No session (the moment of signing out): nothing is allowed.
  const role = useSession().data?.role;
  return (method, route) => role !== undefined && isAllowed({ kind: 'user', role }, permissionOf(actionOf(method, route), method));
}
