import { useMemo, useRef, useState } from 'react';
import { Figures } from '../../ui/figures';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { usePickableContacts } from '../../api/contact-picker';
import { useGroups } from '../../api/groups';
import { type Target, useRecipientCount, useSend } from '../../api/messages';
import { fieldError } from '../../ui/problem';
import { CheckboxField, RadioGroup, SelectField } from '../../ui/controls';
import { Field } from '../../ui/field';
import { ErrorMessage, Loading } from '../../ui/status';
import { useDebounced } from '../../ui/use-debounced';
import { useFormat } from '../../ui/use-format';

type Kind = 'all' | 'group' | 'contacts';

/** Sending a saved message: choose the target, read who it reaches (tracked / untracked), confirm. */
export function SendPanel({ pid, mid, messageName }: { pid: string; mid: string; messageName: string }) {
  const { t } = useTranslation();
  const format = useFormat();
  const navigate = useNavigate();
  const [kind, setKind] = useState<Kind>('all');
  const [groupId, setGroupId] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [search, setSearch] = useState('');
  const email = useDebounced(search.trim(), 400);
  const groups = useGroups(pid);
  const contacts = usePickableContacts(pid, kind === 'contacts' && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email) ? email : '');
  const target: Target | null = useMemo(() => {
    if (kind === 'all') return { all: true };
    if (kind === 'group') return groupId ? { groupId } : null;
    return chosen.length > 0 ? { contactIds: chosen } : null;
  }, [kind, groupId, chosen]);
  const count = useRecipientCount(pid, mid, target);
  const send = useSend(pid);
  const dialog = useRef<HTMLDialogElement>(null);

  const toggle = (id: string, on: boolean) => setChosen((list) => (on ? [...new Set([...list, id])] : list.filter((x) => x !== id)));

  return (
    <section className="panel" aria-labelledby="send-title">
      <h2 id="send-title">{t('messages.send.title')}</h2>
      <RadioGroup
        legend={t('messages.send.target')}
        name="target"
        value={kind}
        onChange={setKind}
        options={[
          { value: 'all', label: t('messages.send.all'), hint: t('messages.send.allHint') },
          { value: 'group', label: t('messages.send.group') },
          { value: 'contacts', label: t('messages.send.contacts') },
        ]}
      />
      {kind === 'group' ? (
        <SelectField label={t('messages.send.chooseGroup')} value={groupId} onChange={(e) => setGroupId(e.target.value)} error={fieldError(count.error, 'groupId')}>
          <option value="">{t('messages.send.noGroup')}</option>
          {groups.data?.map((g) => (
            <option key={g.id} value={g.id}>
              {g.name}
            </option>
          ))}
        </SelectField>
      ) : null}
      {kind === 'contacts' ? (
        <fieldset>
          <legend>{t('messages.send.chooseContacts')}</legend>
          <Field label={t('messages.send.searchEmail')} type="search" value={search} onChange={(e) => setSearch(e.target.value)} hint={t('messages.send.searchHint')} />
          {contacts.isPending ? <Loading /> : null}
          <div className="pick-list">
            {contacts.data?.map((c) => (
              <CheckboxField
                key={c.id}
                label={`${c.email ?? c.externalId ?? c.id}`}
                hint={t(`messages.preview.status.${c.tracked ? 'tracked' : 'untracked'}`)}
                checked={chosen.includes(c.id)}
                onChange={(e) => toggle(c.id, e.target.checked)}
              />
            ))}
          </div>
          <p className="hint">{t('messages.send.chosen', { count: chosen.length })}</p>
        </fieldset>
      ) : null}
      <div className="recipients" aria-live="polite">
        {count.isFetching && !count.data ? <Loading /> : null}
        {count.error && !fieldError(count.error, 'groupId') ? <ErrorMessage error={count.error} /> : null}
        {target && count.data ? (
          <Figures
            size="small"
            items={[
              { label: t('messages.send.recipients'), value: format.number(count.data.targeted) },
              { label: t('messages.send.tracked'), value: format.number(count.data.tracked) },
              { label: t('messages.send.untracked'), value: format.number(count.data.untracked) },
            ]}
          />
        ) : null}
        {target && count.data && count.data.untracked > 0 ? <p className="hint">{t('messages.send.untrackedNote')}</p> : null}
      </div>
      <div className="actions">
        <button type="button" className="primary" disabled={!target || !count.data || count.data.targeted === 0} onClick={() => dialog.current?.showModal()}>
          {t('messages.send.review')}
        </button>
      </div>
      <dialog ref={dialog} aria-labelledby="confirm-title">
        <h2 id="confirm-title">{t('messages.send.confirmTitle', { name: messageName })}</h2>
        {count.data ? (
          <p>{t('messages.send.confirmText', { targeted: format.number(count.data.targeted), tracked: format.number(count.data.tracked), untracked: format.number(count.data.untracked) })}</p>
        ) : null}
        <ErrorMessage error={send.error} />
        <div className="actions">
          <button
            type="button"
            className="primary"
            disabled={send.isPending || !target}
            onClick={() => {
              if (!target) return;
              send.mutate(
                { messageId: mid, target },
                {
                  onSuccess: (sending) => {
                    dialog.current?.close();
                    navigate(`/projects/${pid}/sendings/${sending.id}`);
                  },
                },
              );
            }}
          >
            {t('messages.send.confirm')}
          </button>
          <button type="button" onClick={() => dialog.current?.close()}>
            {t('mk.cancel')}
          </button>
        </div>
      </dialog>
    </section>
  );
}
