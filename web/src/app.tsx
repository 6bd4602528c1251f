import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { lazy } from 'react';
import { createBrowserRouter, Navigate, type RouteObject, RouterProvider } from 'react-router';
import { ApiError } from './api/client';
import { RequireSession } from './auth/require-session';
import { LoginPage } from './screens/login/login-page';
import { NotFoundPage } from './screens/not-found/not-found-page';
import { PROJECT_SCREENS } from './shell/screens';
import { Shell } from './shell/shell';

const ProjectsPage = lazy(() => import('./screens/projects/projects-page'));

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A refusal or a missing object does not get better by asking again.
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
});

const projectRoutes: RouteObject[] = PROJECT_SCREENS.map((screen) => {
  const Screen = lazy(screen.load);
  return { path: screen.path, element: <Screen /> };
});

const router = createBrowserRouter(
  [
    { path: '/login', element: <LoginPage /> },
    {
      element: (
        <RequireSession>
          <Shell />
        </RequireSession>
      ),
      children: [
        { index: true, element: <Navigate to="/projects" replace /> },
        { path: 'projects', element: <ProjectsPage /> },
        { path: 'projects/:pid', children: [{ index: true, element: <Navigate to={PROJECT_SCREENS.find((s) => s.nav)?.path ?? '/projects'} replace /> }, ...projectRoutes] },
        { path: '*', element: <NotFoundPage /> },
      ],
    },
  ],
  { basename: '/admin' },
);

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  );
}
