import { Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink, Outlet, useNavigate, useParams } from 'react-router';
import { useSession, useSignOut } from '../auth/session';
import { Loading } from '../ui/status';
import { LanguageSwitch } from './language-switch';
import { ProjectSwitcher } from './project-switcher';
import { PROJECT_SCREENS } from './screens';

/** The frame of every signed-in page: project switcher, navigation, user, sign-out and language. */
export function Shell() {
  const { t } = useTranslation();
  const { data: user } = useSession();
  const { pid } = useParams();
  const signOut = useSignOut();
  const navigate = useNavigate();
  // Signing out forgets the session a moment before the redirect to /login: render nothing in between.
  if (!user) return null;
  return (
    <>
      <a className="skip-link" href="#main">
        {t('shell.skipToContent')}
      </a>
      <header className="shell-header">
        <div className="shell-top">
          <NavLink to="/projects" className="brand">
            trackguard
          </NavLink>
          <ProjectSwitcher />
          <div className="shell-user">
            <span>
              {t('shell.signedInAs')} <strong>{user.name || user.email}</strong> <span className="role">({t(`roles.${user.role}`)})</span>
            </span>
            <LanguageSwitch />
            <button type="button" onClick={() => signOut.mutate(undefined, { onSettled: () => navigate('/login') })} disabled={signOut.isPending}>
              {t('shell.signOut')}
            </button>
          </div>
        </div>
        <nav aria-label={t('shell.navigation')}>
          <ul>
            <li>
              <NavLink to="/projects" end>
                {t('nav.projects')}
              </NavLink>
            </li>
            {pid
              ? PROJECT_SCREENS.filter((screen) => screen.nav).map((screen) => (
                  <li key={screen.path}>
                    <NavLink to={`/projects/${pid}/${screen.path}`}>{t(screen.nav!)}</NavLink>
                  </li>
                ))
              : null}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Loading />}>
          <Outlet />
        </Suspense>
      </main>
    </>
  );
}
