import { useTranslation } from 'react-i18next';
import { Figures } from '../../ui/figures';
import { Link, useParams } from 'react-router';
import { type Home, useHome } from '../../api/dashboards';
import { useProject } from '../../api/projects';
import { useMay } from '../../auth/permissions';
import { SplitBar } from '../../ui/split-bar';
import { usePageTitle } from '../../ui/page-title';
import { ErrorMessage, Loading } from '../../ui/status';
import { useFormat } from '../../ui/use-format';
import '../../ui/marketing.css';

/** The project's home: where consent stands and how the last sendings did. */
export default function DashboardPage() {
  const { t } = useTranslation();
  const { pid = '' } = useParams();
  const project = useProject(pid);
  const home = useHome(pid);
  const may = useMay();
  usePageTitle(project.data ? `${t('dashboard.title')} · ${project.data.name}` : t('dashboard.title'));
  return (
    <>
      <div className="page-head">
        <h1>{project.data ? project.data.name : t('dashboard.title')}</h1>
        {may('POST', '/api/v1/projects/:pid/messages') ? (
          <div className="actions inline">
            <Link className="button primary" to={`/projects/${pid}/messages/new`}>
              {t('messages.new')}
            </Link>
            <Link className="button" to={`/projects/${pid}/groups/new`}>
              {t('groups.new')}
            </Link>
          </div>
        ) : null}
      </div>
      {home.isPending ? <Loading /> : null}
      <ErrorMessage error={home.error} />
      {home.data ? (
        <div className="dashboard-grid">
          <ConsentSplit pid={pid} home={home.data} />
          <LastSendings pid={pid} home={home.data} />
        </div>
      ) : null}
    </>
  );
}

function ConsentSplit({ pid, home }: { pid: string; home: Home }) {
  const { t } = useTranslation();
  const format = useFormat();
  const c = home.consent;
  return (
    <section className="panel" aria-labelledby="consent-title">
      <h2 id="consent-title">{t('dashboard.consent')}</h2>
      <p>
        {home.tracking.enabled
          ? t('dashboard.trackingOn', { mode: t(home.tracking.mode === 'opt-in' ? 'dashboard.optIn' : 'dashboard.optOut') })
          : t('dashboard.trackingOff')}{' '}
        <Link to={`/projects/${pid}/settings/tracking`}>{t('dashboard.settings')}</Link>
      </p>
      <p className="big-figure">
        <strong>{format.number(c.contacts)}</strong> {t('dashboard.contacts')}
      </p>
      {c.contacts > 0 ? (
        <>
          <SplitBar
            label={t('dashboard.consentChart')}
            parts={[
              { key: 'accepted', label: t('mk.status.accepted'), value: c.accepted, className: 'part-accepted' },
              { key: 'refused', label: t('mk.status.refused'), value: c.refused, className: 'part-refused' },
              { key: 'unanswered', label: t('mk.status.unanswered'), value: c.unanswered, className: 'part-unanswered' },
            ]}
          />
          <SplitBar
            label={t('dashboard.trackedChart')}
            parts={[
              { key: 'tracked', label: t('sending.tracked'), value: c.tracked, className: 'part-tracked' },
              { key: 'untracked', label: t('sending.untracked'), value: c.untracked, className: 'part-untracked' },
            ]}
          />
        </>
      ) : (
        <p className="empty">{t('dashboard.noContacts')}</p>
      )}
    </section>
  );
}

function LastSendings({ pid, home }: { pid: string; home: Home }) {
  const { t } = useTranslation();
  const format = useFormat();
  const n = format.number;
  return (
    <section className="panel wide" aria-labelledby="last-title">
      <h2 id="last-title">{t('dashboard.lastSendings')}</h2>
      {home.sendings.length === 0 ? (
        <p className="empty">
          {t('dashboard.noSendings')} <Link to={`/projects/${pid}/messages`}>{t('sendings.toMessages')}</Link>
        </p>
      ) : (
        <ul className="sending-cards">
          {home.sendings.map((s) => (
            <li key={s.sendingId} className="card">
              <h3>
                <Link to={`/projects/${pid}/sendings/${s.sendingId}`}>{s.messageName}</Link>
              </h3>
              <p className="hint">
                <span className={`badge status-${s.status}`}>{t(`sendings.status.${s.status}`)}</span> {t(`messages.channels.${s.channel}`)} · {format.dateTime(s.createdAt)}
              </p>
              <Figures
                size="tiny"
                items={[
                  { label: t('sending.targeted'), value: n(s.targeted) },
                  { label: t('sending.delivered'), value: n(s.delivered) },
                  { label: t('dashboard.uniqueOpens'), value: n(s.opens.unique) },
                  { label: t('dashboard.uniqueClicks'), value: n(s.clicks.unique) },
                ]}
              />
              <p className="hint">{t('dashboard.split', { tracked: n(s.tracked), untracked: n(s.untracked) })}</p>
              {s.suppressed ? <p className="hint">{t('dashboard.suppressed')}</p> : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
