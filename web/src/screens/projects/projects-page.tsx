import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useProjects } from '../../api/projects';
import { usePageTitle } from '../../ui/page-title';
import { ErrorMessage, Loading } from '../../ui/status';

/** The projects the signed-in user can reach. */
export default function ProjectsPage() {
  const { t } = useTranslation();
  usePageTitle(t('projects.title'));
  const projects = useProjects();
  return (
    <>
      <h1>{t('projects.title')}</h1>
      {projects.isPending ? <Loading /> : null}
      <ErrorMessage error={projects.error} />
      {projects.data?.length === 0 ? <p>{t('projects.none')}</p> : null}
      {projects.data && projects.data.length > 0 ? (
        <ul className="cards">
          {projects.data.map((project) => (
            <li key={project.id} className="card">
              <h2>
                <Link to={`/projects/${project.id}`}>{project.name}</Link>
              </h2>
              <p>
                {project.tracking.enabled
                  ? t('projects.trackingOn', { mode: t(`tracking.mode.${project.tracking.mode === 'opt-in' ? 'optIn' : 'optOut'}`) })
                  : t('projects.trackingOff')}
              </p>
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}
