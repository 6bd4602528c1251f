import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { TRACKING_STATUSES, type TrackingStatus, useContactCounts, useContacts } from '../../api/contacts';
import { useFormat } from '../../ui/format';
import { usePageTitle } from '../../ui/page-title';
import { TableScroll } from '../../ui/table-scroll';
import { fieldError } from '../../ui/problem';
import { ErrorMessage, Loading } from '../../ui/status';
import '../consent.css';
import { TrackingBadge } from './tracking-badge';

const PAGE_SIZE = 50;
const isStatus = (value: string | null): value is TrackingStatus => TRACKING_STATUSES.includes(value as TrackingStatus);

/** `/projects/{pid}/contacts`: a paged, searchable table with a tracking-status filter and the counts per status. */
export default function ContactsPage() {
  const { t } = useTranslation();
  usePageTitle(t('contactList.title'));
  const { pid = '' } = useParams();
  const format = useFormat();
  // The filter and search live in the address, so a filtered list can be shared or reloaded.
  const [params, setParams] = useSearchParams();
  const search = params.get('search') ?? '';
  const statusParam = params.get('trackingStatus');
  const trackingStatus = isStatus(statusParam) ? statusParam : undefined;
  // Cursor paging: the cursors of the pages before this one.
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const contacts = useContacts(pid, { search: search || undefined, trackingStatus, cursor, limit: PAGE_SIZE });
  const counts = useContactCounts(pid);
  const [typed, setTyped] = useState(search);
  const searchId = useId();
  const statusId = useId();

  const apply = (next: { search?: string; trackingStatus?: string }) => {
    const merged = new URLSearchParams(params);
    for (const [key, value] of Object.entries(next)) {
      if (value) merged.set(key, value);
      else merged.delete(key);
    }
    setCursors([]);
    setParams(merged, { replace: true });
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    apply({ search: typed.trim() });
  };

  return (
    <>
      <h1>{t('contactList.title')}</h1>
      {/* No aria-labelledby here: the heading would become a label that matches "Tracking status". */}
      <section className="panel">
        <h2>{t('contactList.countsTitle')}</h2>
        {counts.isPending ? <Loading /> : null}
        <ErrorMessage error={counts.error} />
        {counts.data ? (
          <ul className="counts">
            <li>
              {t('contactList.countAll')} <strong>{format.number(counts.data.contacts)}</strong>
            </li>
            {TRACKING_STATUSES.map((status) => (
              <li key={status}>
                <TrackingBadge status={status} /> <strong>{format.number(counts.data[status])}</strong>
              </li>
            ))}
            <li>
              {t('contactList.countTracked')} <strong>{format.number(counts.data.tracked)}</strong>
            </li>
            <li>
              {t('contactList.countUntracked')} <strong>{format.number(counts.data.untracked)}</strong>
            </li>
          </ul>
        ) : null}
      </section>

      <search>
      <form className="toolbar" onSubmit={submit}>
        <div className="field">
          <label htmlFor={searchId}>{t('contactList.search')}</label>
          <input
            id={searchId}
            type="search"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            aria-describedby={`${searchId}-hint`}
            aria-invalid={fieldError(contacts.error, 'search') ? true : undefined}
          />
          <p className="hint" id={`${searchId}-hint`}>
            {t('contactList.searchHint')}
          </p>
          {fieldError(contacts.error, 'search') ? <p className="field-error">{fieldError(contacts.error, 'search')}</p> : null}
        </div>
        <button type="submit">{t('contactList.searchButton')}</button>
        <div className="field">
          <label htmlFor={statusId}>{t('contactList.filter')}</label>
          <select id={statusId} value={trackingStatus ?? ''} onChange={(e) => apply({ trackingStatus: e.target.value })}>
            <option value="">{t('contactList.allStatuses')}</option>
            {TRACKING_STATUSES.map((status) => (
              <option key={status} value={status}>
                {t(`trackingStatus.${status}`)}
              </option>
            ))}
          </select>
        </div>
      </form>
      </search>

      {contacts.isPending ? <Loading /> : null}
      {contacts.error && !fieldError(contacts.error, 'search') ? <ErrorMessage error={contacts.error} /> : null}
      {contacts.data ? (
        contacts.data.items.length === 0 ? (
          <p>{search || trackingStatus ? t('contactList.noMatch') : t('contactList.none')}</p>
        ) : (
          <TableScroll label={t('contactList.caption')}>
            <table>
              <caption className="visually-hidden">{t('contactList.caption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('contactList.email')}</th>
                  <th scope="col">{t('contactList.externalId')}</th>
                  <th scope="col">{t('contactList.trackingStatus')}</th>
                  <th scope="col">{t('contactList.trackedNow')}</th>
                  <th scope="col" className="wide-only">
                    {t('contactList.deliveryStatus')}
                  </th>
                  <th scope="col" className="wide-only">
                    {t('contactList.created')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {contacts.data.items.map((contact) => (
                  <tr key={contact.id}>
                    <td>
                      <Link to={`/projects/${pid}/contacts/${contact.id}`}>{contact.email ?? contact.externalId ?? `#${contact.id}`}</Link>
                    </td>
                    <td>{contact.externalId ?? ''}</td>
                    <td>
                      <TrackingBadge status={contact.trackingStatus} />
                    </td>
                    <td>{contact.tracked ? t('contactList.yes') : t('contactList.no')}</td>
                    <td className="wide-only">{t(`deliveryStatus.${contact.status}`, { defaultValue: contact.status })}</td>
                    <td className="wide-only">{format.dateTime(contact.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        )
      ) : null}
      <nav className="actions" aria-label={t('contactList.pages')}>
        <button type="button" disabled={cursors.length === 0 || contacts.isFetching} onClick={() => setCursors((c) => c.slice(0, -1))}>
          {t('contactList.previous')}
        </button>
        <button
          type="button"
          disabled={!contacts.data?.nextCursor || contacts.isFetching}
          onClick={() => {
            const next = contacts.data?.nextCursor;
            if (next) setCursors((c) => [...c, next]);
          }}
        >
          {t('contactList.next')}
        </button>
        {contacts.isFetching && !contacts.isPending ? <Loading /> : null}
      </nav>
    </>
  );
}
