import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { type ConsentEntry, type ContactCard, useContact, useScoreModels, useSetTrackingConsent } from '../../api/contacts';
import { useProject } from '../../api/projects';
import { useMay } from '../../auth/permissions';
import { ConfirmDialog } from '../../ui/confirm-dialog';
import { useFormat } from '../../ui/format';
import { usePageTitle } from '../../ui/page-title';
import { TableScroll } from '../../ui/table-scroll';
import { ErrorMessage, Loading } from '../../ui/status';
import '../consent.css';
import { TrackingBadge } from './tracking-badge';

/**
 * `/projects/{pid}/contacts/{cid}`: the contact profile (SPEC §5 contact card). Tracking status closes the
 * profile section; the consent history follows; sendings and events only for a tracked contact.
 */
export default function ContactPage() {
  const { t } = useTranslation();
  const { pid = '', cid = '' } = useParams();
  const contact = useContact(pid, cid);
  usePageTitle(contact.data ? nameOf(contact.data) : t('contactProfile.title'));
  return (
    <>
      <p className="breadcrumb">
        <Link to={`/projects/${pid}/contacts`}>{t('contactProfile.back')}</Link>
      </p>
      {contact.isPending ? <Loading /> : null}
      <ErrorMessage error={contact.error} />
      {contact.data ? <Profile pid={pid} contact={contact.data} /> : null}
    </>
  );
}

const nameOf = (contact: ContactCard) => contact.email ?? contact.externalId ?? `#${contact.id}`;

function Profile({ pid, contact }: { pid: string; contact: ContactCard }) {
  const { t } = useTranslation();
  const format = useFormat();
  const project = useProject(pid);
  const may = useMay();
  const canChangeConsent = may('PUT', '/api/v1/projects/:pid/contacts/:cid/tracking-consent');
  const canPrivacy = may('GET', '/api/v1/projects/:pid/contacts/:cid/export');
  const customFields = Object.entries(contact.fields);
  const modules = project.data?.tracking;
  return (
    <>
      <h1>{nameOf(contact)}</h1>
      <section className="panel" aria-labelledby="profile-h">
        <h2 id="profile-h">{t('contactProfile.profile')}</h2>
        <dl className="facts">
          <dt>{t('contactProfile.email')}</dt>
          <dd>{contact.email ?? '—'}</dd>
          <dt>{t('contactProfile.externalId')}</dt>
          <dd>{contact.externalId ?? '—'}</dd>
          <dt>{t('contactProfile.phone')}</dt>
          <dd>{contact.phone ?? '—'}</dd>
          <dt>{t('contactProfile.deliveryStatus')}</dt>
          <dd>{t(`deliveryStatus.${contact.status}`, { defaultValue: contact.status })}</dd>
          {customFields.map(([name, value]) => (
            <FieldFact key={name} name={name} value={value} />
          ))}
          <dt>{t('contactProfile.created')}</dt>
          <dd>{format.dateTime(contact.createdAt)}</dd>
          <dt>{t('contactProfile.updated')}</dt>
          <dd>{format.dateTime(contact.updatedAt)}</dd>
        </dl>
        <div className="tracking-status">
          <h3 id="tracking-status-h">{t('contactProfile.trackingStatus')}</h3>
          <p className="status-line">
            <TrackingBadge status={contact.trackingStatus} />
            {contact.dtTrackingConsent ? <span className="hint"> {t('contactProfile.since', { date: format.dateTime(contact.dtTrackingConsent) })}</span> : null}
          </p>
          <p>
            {contact.tracked ? t('contactProfile.trackedNow') : t('contactProfile.notTrackedNow')}
            {modules ? (
              <span className="hint">
                {' '}
                {modules.enabled
                  ? t(modules.mode === 'opt-in' ? 'contactProfile.whyOptIn' : 'contactProfile.whyOptOut')
                  : t('contactProfile.whyModuleOff')}
              </span>
            ) : null}
          </p>
          {canChangeConsent ? <ConsentButtons pid={pid} contact={contact} /> : null}
        </div>
      </section>

      <section className="panel" aria-labelledby="history-h">
        <h2 id="history-h">{t('contactProfile.history')}</h2>
        <ConsentHistory entries={contact.consentHistory} />
      </section>

      <section className="panel" aria-labelledby="activity-h">
        <h2 id="activity-h">{t('contactProfile.activity')}</h2>
        {contact.tracked ? <Activity pid={pid} contact={contact} /> : <p className="notice">{t('contactProfile.notTargeted')}</p>}
      </section>

      <Scores pid={pid} scores={contact.scores} />

      {canPrivacy ? (
        <p>
          <Link to={`/projects/${pid}/privacy?contact=${contact.id}`}>{t('contactProfile.privacyTools')}</Link>
        </p>
      ) : null}
    </>
  );
}

function FieldFact({ name, value }: { name: string; value: unknown }) {
  return (
    <>
      <dt>{name}</dt>
      <dd>{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
    </>
  );
}

/** Accept tracking / Refuse tracking, each after a confirmation; recorded by the server as `admin:<email>`. */
function ConsentButtons({ pid, contact }: { pid: string; contact: ContactCard }) {
  const { t } = useTranslation();
  const [asking, setAsking] = useState<boolean | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const change = useSetTrackingConsent(pid, contact.id);
  const confirm = () => {
    if (asking === null) return;
    const consent = asking;
    change.mutate(consent, {
      onSuccess: (answer) => {
        setAsking(null);
        setResult(answer.consent === 'stale' ? t('contactProfile.stale') : t('contactProfile.changed'));
      },
    });
  };
  return (
    <>
      <div className="actions">
        <button
          type="button"
          className="primary"
          onClick={() => {
            change.reset();
            setResult(null);
            setAsking(true);
          }}
        >
          {t('contactProfile.accept')}
        </button>
        <button
          type="button"
          className="danger"
          onClick={() => {
            change.reset();
            setResult(null);
            setAsking(false);
          }}
        >
          {t('contactProfile.refuse')}
        </button>
      </div>
      <div role="status">{result ? <p className="success">{result}</p> : null}</div>
      <ConfirmDialog
        open={asking !== null}
        title={t(asking ? 'contactProfile.confirmAcceptTitle' : 'contactProfile.confirmRefuseTitle')}
        danger={asking === false}
        busy={change.isPending}
        onConfirm={confirm}
        onCancel={() => setAsking(null)}
      >
        <p>{t(asking ? 'contactProfile.confirmAccept' : 'contactProfile.confirmRefuse', { contact: nameOf(contact) })}</p>
        <ErrorMessage error={change.error} />
      </ConfirmDialog>
    </>
  );
}

function ConsentHistory({ entries }: { entries: ConsentEntry[] }) {
  const { t } = useTranslation();
  const format = useFormat();
  if (entries.length === 0) return <p>{t('contactProfile.noHistory')}</p>;
  // Newest first: the entry that decides the status now comes first.
  const rows = [...entries].reverse();
  return (
    <TableScroll label={t('contactProfile.history')}>
      <table>
        <caption className="visually-hidden">{t('contactProfile.history')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('contactProfile.date')}</th>
            <th scope="col">{t('contactProfile.action')}</th>
            <th scope="col">{t('contactProfile.source')}</th>
            <th scope="col">{t('contactProfile.proof')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((entry) => (
            <tr key={entry.id}>
              <td>
                {format.dateTime(entry.date)}
                {entry.recordedAt !== entry.date ? <span className="hint block">{t('contactProfile.recordedAt', { date: format.dateTime(entry.recordedAt) })}</span> : null}
              </td>
              <td>{t(`consentAction.${entry.action}`, { defaultValue: entry.action })}</td>
              <td>
                <span className="mono">{entry.source}</span>
                {entry.detail ? <span className="hint block">{entry.detail}</span> : null}
              </td>
              <td>
                {entry.ip || entry.userAgent || entry.wordingHash ? (
                  <dl className="proof">
                    {entry.ip ? (
                      <>
                        <dt>{t('contactProfile.ip')}</dt>
                        <dd className="mono">{entry.ip}</dd>
                      </>
                    ) : null}
                    {entry.userAgent ? (
                      <>
                        <dt>{t('contactProfile.userAgent')}</dt>
                        <dd className="mono">{entry.userAgent}</dd>
                      </>
                    ) : null}
                    {entry.wordingHash ? (
                      <>
                        <dt>{t('contactProfile.wordingHash')}</dt>
                        <dd className="mono">{entry.wordingHash}</dd>
                      </>
                    ) : null}
                  </dl>
                ) : (
                  <span className="hint">—</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}

function Activity({ pid, contact }: { pid: string; contact: ContactCard }) {
  const { t } = useTranslation();
  const format = useFormat();
  return (
    <>
      <h3>{t('contactProfile.sendings')}</h3>
      {contact.sendings.length === 0 ? (
        <p>{t('contactProfile.noSendings')}</p>
      ) : (
        <TableScroll label={t('contactProfile.sendings')}>
          <table>
            <caption className="visually-hidden">{t('contactProfile.sendings')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('contactProfile.date')}</th>
                <th scope="col">{t('contactProfile.message')}</th>
                <th scope="col">{t('contactProfile.channel')}</th>
                <th scope="col">{t('contactProfile.deliveryOutcome')}</th>
              </tr>
            </thead>
            <tbody>
              {contact.sendings.map((s) => (
                <tr key={`${s.sendingId}-${s.at}`}>
                  <td>{format.dateTime(s.at)}</td>
                  <td>
                    <Link to={`/projects/${pid}/sendings/${s.sendingId}`}>{s.messageName}</Link>
                  </td>
                  <td>{s.channel}</td>
                  <td>{s.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      <h3>{t('contactProfile.events')}</h3>
      {contact.events.length === 0 ? (
        <p>{t('contactProfile.noEvents')}</p>
      ) : (
        <TableScroll label={t('contactProfile.events')}>
          <table>
            <caption className="visually-hidden">{t('contactProfile.events')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('contactProfile.date')}</th>
                <th scope="col">{t('contactProfile.eventType')}</th>
                <th scope="col">{t('contactProfile.eventWhat')}</th>
              </tr>
            </thead>
            <tbody>
              {contact.events.map((event, index) => {
                const e = event as { id?: string; type?: string; at?: string; machine?: boolean; linkUrl?: string; url?: string; name?: string };
                return (
                  <tr key={e.id ?? index}>
                    <td>{format.dateTime(e.at)}</td>
                    <td>
                      {t(`eventType.${e.type}`, { defaultValue: e.type ?? '' })}
                      {e.machine ? <span className="hint"> ({t('contactProfile.machine')})</span> : null}
                    </td>
                    <td className="mono">{e.linkUrl ?? e.url ?? e.name ?? ''}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableScroll>
      )}
    </>
  );
}

function Scores({ pid, scores }: { pid: string; scores: Record<string, number> }) {
  const { t } = useTranslation();
  const ids = Object.keys(scores);
  const models = useScoreModels(pid, ids.length > 0);
  return (
    <section className="panel" aria-labelledby="scores-h">
      <h2 id="scores-h">{t('contactProfile.scores')}</h2>
      {ids.length === 0 ? (
        <p>{t('contactProfile.noScores')}</p>
      ) : (
        <>
          <ErrorMessage error={models.error} />
          <dl className="facts">
            {ids.map((id) => (
              <FieldFact key={id} name={models.data?.find((m) => m.id === id)?.name ?? t('contactProfile.model', { id })} value={scores[id]} />
            ))}
          </dl>
        </>
      )}
    </section>
  );
}
