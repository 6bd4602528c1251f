import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation, useNavigate, useParams } from 'react-router';
import { useProjects } from '../api/projects';
import { PROJECT_SCREENS } from './screens';

/** Moves to the same screen of another project (`/projects/2/contacts` → `/projects/5/contacts`). */
export function ProjectSwitcher() {
  const { t } = useTranslation();
  const { pid } = useParams();
  const projects = useProjects();
  const navigate = useNavigate();
  const location = useLocation();
  const id = useId();
  if (!projects.data || projects.data.length === 0) return null;
  return (
    <div className="project-switcher">
      <label htmlFor={id}>{t('shell.project')}</label>
      <select
        id={id}
        value={pid ?? ''}
        onChange={(event) => {
          const next = event.target.value;
          if (!next) return navigate('/projects');
          navigate(`/projects/${next}/${sameScreen(location.pathname)}`);
        }}
      >
        <option value="">{t('shell.chooseProject')}</option>
        {projects.data.map((project) => (
          <option key={project.id} value={project.id}>
            {project.name}
          </option>
        ))}
      </select>
    </div>
  );
}

/** The navigation screen the path is on, without the old project's object ids (contacts/12 → contacts). */
function sameScreen(pathname: string): string {
  const rest = pathname.split('/').slice(3).join('/');
  const screen = PROJECT_SCREENS.find((s) => s.nav && (rest === s.path || rest.startsWith(`${s.path}/`)));
  return screen?.path ?? PROJECT_SCREENS.find((s) => s.nav)?.path ?? '';
}
