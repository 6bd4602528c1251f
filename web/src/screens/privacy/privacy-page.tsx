import { type FormEvent, useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { type ContactRow, useContact } from '../../api/contacts';
import { type AuditFilter, type ErasureReceipt, useAuditLog, useDownloadExport, useEraseContact, useFindContact, useVerifyLedger } from '../../api/privacy';
import { useMay } from '../../auth/permissions';
import { ConfirmDialog } from '../../ui/confirm-dialog';
import { useFormat } from '../../ui/format';
import { usePageTitle } from '../../ui/page-title';
import { TableScroll } from '../../ui/table-scroll';
import { fieldError } from '../../ui/problem';
import { ErrorMessage, Loading } from '../../ui/status';
import '../consent.css';
import { ConsentDashboard } from '../consent-dashboard/consent-dashboard';
import { TrackingBadge } from '../contacts/tracking-badge';

/**
 * `/projects/{pid}/privacy`: the privacy officer's page, one section each — access export and erasure of a
 * contact, ledger verification, the audit log. Further sections (the consent dashboard) slot in between
 * the heading and these, as siblings.
 */
export default function PrivacyPage() {
  const { t } = useTranslation();
  usePageTitle(t('privacy.title'));
  const { pid = '' } = useParams();
  const may = useMay();
  const canRequests = may('DELETE', '/api/v1/projects/:pid/contacts/:cid');
  const canLedger = may('POST', '/api/v1/projects/:pid/ledger/verify');
  const canAudit = may('GET', '/api/v1/projects/:pid/audit-log');
  const canDashboard = may('GET', '/api/v1/projects/:pid/consent-dashboard');
  return (
    <>
      <h1>{t('privacy.title')}</h1>
      {canDashboard ? <ConsentDashboard pid={pid} /> : null}
      {canRequests ? <ContactRequests pid={pid} /> : null}
      {canLedger ? <LedgerVerification pid={pid} /> : null}
      {canAudit ? <AuditLog pid={pid} /> : null}
      {!canRequests && !canLedger && !canAudit ? <p>{t('privacy.notAllowed')}</p> : null}
    </>
  );
}

const nameOf = (contact: Pick<ContactRow, 'id' | 'email' | 'externalId'>) => contact.email ?? contact.externalId ?? `#${contact.id}`;

/** Access request (download everything held) and erasure (after typing the contact's address). */
function ContactRequests({ pid }: { pid: string }) {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const preselected = params.get('contact') ?? '';
  const [text, setText] = useState('');
  const [found, setFound] = useState<Pick<ContactRow, 'id' | 'email' | 'externalId' | 'trackingStatus'> | null>(null);
  const [notFound, setNotFound] = useState(false);
  const [erasing, setErasing] = useState(false);
  const [typed, setTyped] = useState('');
  const [erased, setErased] = useState<string | null>(null);
  const [receipt, setReceipt] = useState<ErasureReceipt | null>(null);
  const find = useFindContact(pid);
  const exporter = useDownloadExport(pid);
  const erase = useEraseContact(pid);
  const fromLink = useContact(pid, preselected);
  const ids = { section: useId(), find: useId(), confirm: useId() };

  // Coming from a profile (`?contact=<id>`): that contact is the one the request is about.
  useEffect(() => {
    if (fromLink.data && !found && !erased) setFound(fromLink.data);
  }, [fromLink.data, found, erased]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setErased(null);
    setNotFound(false);
    if (!text.trim()) return;
    find.mutate(text, {
      onSuccess: (contact) => {
        setFound(contact);
        setNotFound(contact === null);
      },
    });
  };
  const confirmErase = () => {
    if (!found) return;
    const who = nameOf(found);
    erase.mutate(found.id, {
      onSuccess: (answer) => {
        setReceipt(answer);
        setErasing(false);
        setFound(null);
        setTyped('');
        setText('');
        setErased(who);
        if (preselected) setParams({}, { replace: true });
      },
    });
  };
  const expected = found ? nameOf(found) : '';
  const findError = fieldError(find.error, 'email') ?? fieldError(find.error, 'search');

  return (
    <section className="panel" aria-labelledby={`${ids.section}-h`}>
      <h2 id={`${ids.section}-h`}>{t('privacy.requests')}</h2>
      <p className="hint">{t('privacy.requestsHint')}</p>
      <form className="toolbar" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={ids.find}>{t('privacy.contact')}</label>
          <input
            id={ids.find}
            type="text"
            autoComplete="off"
            value={text}
            onChange={(e) => setText(e.target.value)}
            aria-invalid={findError ? true : undefined}
            aria-describedby={findError ? `${ids.find}-error` : undefined}
          />
          {findError ? (
            <p className="field-error" id={`${ids.find}-error`}>
              {findError}
            </p>
          ) : null}
        </div>
        <button type="submit" disabled={find.isPending}>
          {t('privacy.find')}
        </button>
      </form>
      {find.isPending || (preselected && fromLink.isPending) ? <Loading /> : null}
      {find.error && !findError ? <ErrorMessage error={find.error} /> : null}
      {preselected && !found && !erased ? <ErrorMessage error={fromLink.error} /> : null}
      <div role="status">
        {notFound ? <p>{t('privacy.noContact')}</p> : null}
        {erased ? <p className="success">{t('privacy.erased', { contact: erased })}</p> : null}
        {erased && receipt ? (
          <p>
            {t('privacy.erasureReceipt', {
              events: receipt.removed.events,
              deliveries: receipt.removed.deliveries,
              entries: receipt.anonymised.consentEntries,
              seq: receipt.ledger.seq,
              at: new Date(receipt.erasedAt).toLocaleString(),
            })}
          </p>
        ) : null}
      </div>
      {found ? (
        <div className="found">
          <p>
            <Link to={`/projects/${pid}/contacts/${found.id}`}>{nameOf(found)}</Link> <TrackingBadge status={found.trackingStatus} />
          </p>
          <div className="actions">
            <button type="button" onClick={() => exporter.mutate(found.id)} disabled={exporter.isPending}>
              {t('privacy.export')}
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => {
                erase.reset();
                setTyped('');
                setErasing(true);
              }}
            >
              {t('privacy.erase')}
            </button>
            {exporter.isPending ? <Loading /> : null}
          </div>
          <ErrorMessage error={exporter.error} />
        </div>
      ) : null}
      <ConfirmDialog
        open={erasing && found !== null}
        title={t('privacy.eraseTitle')}
        danger
        confirmLabel={t('privacy.eraseConfirm')}
        canConfirm={typed.trim().toLowerCase() === expected.toLowerCase()}
        busy={erase.isPending}
        onConfirm={confirmErase}
        onCancel={() => setErasing(false)}
      >
        <p>{t('privacy.eraseText', { contact: expected })}</p>
        <div className="field">
          <label htmlFor={ids.confirm}>{t('privacy.typeToConfirm', { contact: expected })}</label>
          <input id={ids.confirm} type="text" autoComplete="off" value={typed} onChange={(e) => setTyped(e.target.value)} />
        </div>
        <ErrorMessage error={erase.error} />
      </ConfirmDialog>
    </section>
  );
}

function LedgerVerification({ pid }: { pid: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const verify = useVerifyLedger(pid);
  const id = useId();
  const report = verify.data;
  return (
    <section className="panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>{t('privacy.ledger')}</h2>
      <p className="hint">{t('privacy.ledgerHint')}</p>
      <div className="actions">
        <button type="button" onClick={() => verify.mutate()} disabled={verify.isPending}>
          {t('privacy.verify')}
        </button>
        {verify.isPending ? <Loading /> : null}
      </div>
      <ErrorMessage error={verify.error} />
      <div role="status">
        {report ? (
          report.ok ? (
            <p className="result-ok">{t('privacy.ledgerOk', { entries: format.number(report.entries) })}</p>
          ) : (
            <p className="result-bad">
              {t('privacy.ledgerBroken', { entries: format.number(report.entries), seq: report.firstBroken?.seq ?? '?', reason: report.firstBroken?.reason ?? '' })}
            </p>
          )
        ) : null}
      </div>
    </section>
  );
}

// Actions the audit log records most; the field accepts any other.
const COMMON_ACTIONS = [
  'contacts.tracking-consent',
  'contacts.delete',
  'contacts.merge',
  'imports.create',
  'projects.update',
  'ledger.verify',
  'sessions.create',
  'users.create',
  'keys.create',
  'keys.delete',
  'messages.create',
  'sendings.create',
];

/** A date typed in the filter as the start (or end) of that day, where the user is. */
function dayBound(day: string, end: boolean): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const at = new Date(`${day}T${end ? '23:59:59.999' : '00:00:00.000'}`);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

function AuditLog({ pid }: { pid: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const [draft, setDraft] = useState({ actor: '', action: '', since: '', until: '' });
  const [filter, setFilter] = useState<AuditFilter>({});
  const [cursors, setCursors] = useState<string[]>([]);
  const log = useAuditLog(pid, filter, cursors[cursors.length - 1], true);
  const ids = { section: useId(), actor: useId(), action: useId(), since: useId(), until: useId(), actions: useId() };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setCursors([]);
    setFilter({
      actor: draft.actor.trim() || undefined,
      action: draft.action.trim() || undefined,
      since: dayBound(draft.since, false),
      until: dayBound(draft.until, true),
    });
  };
  const error = log.error;
  const named = ['actor', 'action', 'since', 'until'].some((f) => fieldError(error, f));
  const input = (key: keyof typeof draft, id: string, label: string, type: string, extra: Record<string, string> = {}) => (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type={type}
        value={draft[key]}
        onChange={(e) => setDraft((d) => ({ ...d, [key]: e.target.value }))}
        aria-invalid={fieldError(error, key) ? true : undefined}
        {...extra}
      />
      {fieldError(error, key) ? <p className="field-error">{fieldError(error, key)}</p> : null}
    </div>
  );
  return (
    <section className="panel" aria-labelledby={`${ids.section}-h`}>
      <h2 id={`${ids.section}-h`}>{t('privacy.audit')}</h2>
      <form className="toolbar" onSubmit={submit} noValidate>
        {input('actor', ids.actor, t('privacy.actor'), 'text', { placeholder: 'user:ana@example.com' })}
        {input('action', ids.action, t('privacy.action'), 'text', { list: ids.actions, placeholder: 'contacts.tracking-consent' })}
        <datalist id={ids.actions}>
          {COMMON_ACTIONS.map((action) => (
            <option key={action} value={action} />
          ))}
        </datalist>
        {input('since', ids.since, t('privacy.since'), 'date')}
        {input('until', ids.until, t('privacy.until'), 'date')}
        <button type="submit">{t('privacy.filter')}</button>
      </form>
      {log.isPending ? <Loading /> : null}
      {error && !named ? <ErrorMessage error={error} /> : null}
      {log.data?.items.length === 0 ? <p>{t('privacy.noEntries')}</p> : null}
      {log.data && log.data.items.length > 0 ? (
        <TableScroll label={t('privacy.audit')}>
          <table>
            <caption className="visually-hidden">{t('privacy.audit')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('privacy.at')}</th>
                <th scope="col">{t('privacy.actor')}</th>
                <th scope="col">{t('privacy.action')}</th>
                <th scope="col">{t('privacy.object')}</th>
                <th scope="col">{t('privacy.outcome')}</th>
              </tr>
            </thead>
            <tbody>
              {log.data.items.map((entry) => (
                <tr key={entry.id}>
                  <td className="nowrap">{format.dateTime(entry.at)}</td>
                  <td className="mono">{entry.actor}</td>
                  <td className="mono">{entry.action}</td>
                  <td>
                    <span className="mono">{entry.object}</span>
                    {entry.detail ? <span className="hint block">{entry.detail}</span> : null}
                  </td>
                  <td>
                    <span className={entry.outcome === 'ok' ? 'result-ok' : 'result-bad'}>{t(`privacy.outcomes.${entry.outcome}`)}</span> <span className="hint">({entry.status})</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      ) : null}
      <nav className="actions" aria-label={t('privacy.auditPages')}>
        <button type="button" disabled={cursors.length === 0 || log.isFetching} onClick={() => setCursors((c) => c.slice(0, -1))}>
          {t('privacy.newer')}
        </button>
        <button
          type="button"
          disabled={!log.data?.nextCursor || log.isFetching}
          onClick={() => {
            const next = log.data?.nextCursor;
            if (next) setCursors((c) => [...c, next]);
          }}
        >
          {t('privacy.older')}
        </button>
        {log.isFetching && !log.isPending ? <Loading /> : null}
      </nav>
    </section>
  );
}
