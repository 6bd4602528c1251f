import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { type Channel, type Draft, type Message, type NewMessage, useMessage, usePreview, useSaveMessage } from '../../api/messages';
import { useSendings } from '../../api/sendings';
import { useMay } from '../../auth/permissions';
import { RadioGroup, TextAreaField } from '../../ui/controls';
import { Field } from '../../ui/field';
import { usePageTitle } from '../../ui/page-title';
import { fieldError } from '../../ui/problem';
import { ErrorMessage, Loading } from '../../ui/status';
import { useDebounced } from '../../ui/use-debounced';
import { useFormat } from '../../ui/use-format';
import { MergeTagHelp } from './merge-tags';
import { isContentProblem, MessagePreview } from './message-preview';
import { SendPanel } from './send-panel';
import '../../ui/marketing.css';

interface Form {
  channel: Channel;
  name: string;
  communicationType: string;
  subject: string;
  from: string;
  html: string;
  text: string;
  title: string;
  url: string;
}

type TextField = 'subject' | 'html' | 'text' | 'title' | 'url';

const EMPTY: Form = {
  channel: 'email',
  name: '',
  communicationType: 'newsletter',
  subject: '',
  from: '',
  html: '<html>\n<body>\n  <p>Hello {{contact.firstName | "there"}},</p>\n  <p><a href="https://example.com/">Read more</a></p>\n</body>\n</html>\n',
  text: '',
  title: '',
  url: '',
};

function formOf(m: Message): Form {
  return {
    channel: m.channel,
    name: m.name,
    communicationType: m.communicationType,
    subject: m.subject ?? '',
    from: m.from ?? '',
    html: m.html ?? '',
    text: m.text ?? '',
    title: m.title ?? '',
    url: m.url ?? '',
  };
}

const orNull = (s: string) => (s.trim() === '' ? null : s);

function contentOf(form: Form): Omit<Draft, 'contactId'> {
  if (form.channel === 'email') return { channel: 'email', subject: orNull(form.subject), html: orNull(form.html), text: orNull(form.text) };
  if (form.channel === 'sms') return { channel: 'sms', text: orNull(form.text) };
  return { channel: 'push', title: orNull(form.title), text: orNull(form.text), url: orNull(form.url) };
}

function messageOf(form: Form): NewMessage {
  return { ...contentOf(form), name: form.name.trim(), communicationType: form.communicationType.trim(), ...(form.channel === 'email' ? { from: orNull(form.from) } : {}) };
}

/** A message: its editor with merge-tag help, the rendered preview, and sending it. */
export default function MessagePage() {
  const { t } = useTranslation();
  const { pid = '', mid } = useParams();
  const location = useLocation();
  const navigate = useNavigate();
  const may = useMay();
  const format = useFormat();
  const message = useMessage(pid, mid);
  const sendings = useSendings(pid);
  const save = useSaveMessage(pid, mid);
  const copyOf = (location.state as { copyOf?: Message } | null)?.copyOf;
  const [form, setForm] = useState<Form>(() => (copyOf ? { ...formOf(copyOf), name: t('messages.copyName', { name: copyOf.name }) } : EMPTY));
  const [loaded, setLoaded] = useState<string | undefined>(undefined);
  const [contactId, setContactId] = useState('');
  const [saved, setSaved] = useState(Boolean((location.state as { created?: boolean } | null)?.created));
  const [lastField, setLastField] = useState<TextField | null>(null);
  const inputs = useRef<Partial<Record<TextField, HTMLInputElement | HTMLTextAreaElement | null>>>({});

  // The saved message fills the editor once per message (not again on every refetch).
  useEffect(() => {
    if (message.data && loaded !== message.data.id) {
      setForm(formOf(message.data));
      setLoaded(message.data.id);
    }
  }, [message.data, loaded]);

  const title = mid ? (message.data?.name ?? t('messages.title')) : t('messages.new');
  usePageTitle(title);

  const sentWith = useMemo(() => (mid ? (sendings.data ?? []).filter((s) => s.messageId === mid) : []), [sendings.data, mid]);
  const canEdit = may(mid ? 'PATCH' : 'POST', mid ? '/api/v1/projects/:pid/messages/:mid' : '/api/v1/projects/:pid/messages');
  const locked = !canEdit || sentWith.length > 0;
  const canSend = may('POST', '/api/v1/projects/:pid/sendings');

  const content = useMemo(() => contentOf(form), [form]);
  const draft = useDebounced<Draft>({ ...content, ...(contactId ? { contactId } : {}) }, 400);
  const preview = usePreview(pid, mid && !message.data ? null : draft);
  const problem = save.error ?? (isContentProblem(preview.error) ? preview.error : null);
  const err = (field: string) => fieldError(problem, field);

  const set = <K extends keyof Form>(key: K, value: Form[K]) => {
    setSaved(false);
    setForm((f) => ({ ...f, [key]: value }));
  };
  const bind = (key: TextField) => ({
    value: form[key],
    onChange: (e: { target: { value: string } }) => set(key, e.target.value),
    onFocus: () => setLastField(key),
    ref: (el: HTMLInputElement | HTMLTextAreaElement | null) => {
      inputs.current[key] = el;
    },
    readOnly: locked,
  });

  const insertTag = (tag: string) => {
    const key = lastField ?? (form.channel === 'email' ? 'html' : 'text');
    const el = inputs.current[key];
    const value = form[key];
    const start = el?.selectionStart ?? value.length;
    const end = el?.selectionEnd ?? value.length;
    set(key, value.slice(0, start) + tag + value.slice(end));
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(start + tag.length, start + tag.length);
    });
  };

  if (mid && message.isPending) return <Loading />;
  if (mid && message.error) return <ErrorMessage error={message.error} />;

  const labels: Record<TextField, string> = {
    subject: t('messages.subject'),
    html: t('messages.html'),
    text: form.channel === 'push' ? t('messages.pushBody') : form.channel === 'sms' ? t('messages.smsText') : t('messages.text'),
    title: t('messages.pushTitle'),
    url: t('messages.pushUrl'),
  };

  return (
    <>
      <p className="breadcrumb">
        <Link to={`/projects/${pid}/messages`}>{t('messages.title')}</Link>
      </p>
      <div className="page-head">
        <h1>{title}</h1>
        {mid && message.data ? <span className={`badge channel-${form.channel}`}>{t(`messages.channels.${form.channel}`)}</span> : null}
      </div>
      {sentWith.length > 0 ? (
        <div className="notice">
          <p>{t('messages.sentNotice')}</p>
          <ul>
            {sentWith.map((s) => (
              <li key={s.id}>
                <Link to={`/projects/${pid}/sendings/${s.id}`}>{t('messages.sendingOf', { date: format.dateTime(s.createdAt), count: format.number(s.targeted) })}</Link>
              </li>
            ))}
          </ul>
          {may('POST', '/api/v1/projects/:pid/messages') && message.data ? (
            <button type="button" onClick={() => navigate(`/projects/${pid}/messages/new`, { state: { copyOf: message.data } })}>
              {t('messages.copy')}
            </button>
          ) : null}
        </div>
      ) : null}
      <div className="editor-layout">
        <form
          className="panel editor"
          aria-labelledby="editor-title"
          onSubmit={(event) => {
            event.preventDefault();
            if (locked) return;
            save.mutate(messageOf(form), {
              onSuccess: (m) => {
                setSaved(true);
                if (!mid) navigate(`/projects/${pid}/messages/${m.id}`, { replace: true, state: { created: true } });
              },
            });
          }}
        >
          <h2 id="editor-title">{t('messages.content')}</h2>
          <Field label={t('messages.name')} value={form.name} onChange={(e) => set('name', e.target.value)} error={err('name')} required readOnly={locked} />
          <Field
            label={t('messages.communicationType')}
            value={form.communicationType}
            onChange={(e) => set('communicationType', e.target.value)}
            error={err('communicationType')}
            hint={t('messages.communicationTypeHint')}
            list="communication-types"
            required
            readOnly={locked}
          />
          <datalist id="communication-types">
            <option value="newsletter" />
            <option value="promotional" />
            <option value="transactional" />
          </datalist>
          {!mid ? (
            <RadioGroup
              legend={t('messages.channel')}
              name="channel"
              inline
              value={form.channel}
              onChange={(c) => set('channel', c)}
              disabled={locked}
              options={[
                { value: 'email', label: t('messages.channels.email') },
                { value: 'sms', label: t('messages.channels.sms') },
                { value: 'push', label: t('messages.channels.push') },
              ]}
            />
          ) : null}
          {form.channel === 'email' ? (
            <>
              <Field label={labels.subject} {...bind('subject')} error={err('subject')} />
              <Field label={t('messages.from')} value={form.from} onChange={(e) => set('from', e.target.value)} error={err('from')} hint={t('messages.fromHint')} readOnly={locked} />
              <TextAreaField label={labels.html} className="code" rows={14} spellCheck={false} {...bind('html')} error={err('html')} />
              <TextAreaField label={labels.text} rows={6} {...bind('text')} error={err('text')} hint={t('messages.textHint')} />
            </>
          ) : null}
          {form.channel === 'sms' ? <TextAreaField label={labels.text} rows={5} {...bind('text')} error={err('text')} hint={t('messages.smsHint')} /> : null}
          {form.channel === 'push' ? (
            <>
              <Field label={labels.title} {...bind('title')} error={err('pushTitle') ?? err('title')} />
              <TextAreaField label={labels.text} rows={4} {...bind('text')} error={err('text')} />
              <Field label={labels.url} {...bind('url')} error={err('pushUrl') ?? err('url')} />
            </>
          ) : null}
          <MergeTagHelp onInsert={locked ? null : insertTag} target={lastField ? labels[lastField] : null} />
          {save.error && !isContentProblem(save.error) ? <ErrorMessage error={save.error} /> : null}
          {!locked ? (
            <div className="actions">
              <button type="submit" className="primary" disabled={save.isPending}>
                {mid ? t('mk.save') : t('messages.create')}
              </button>
              <span role="status" className="success">
                {saved ? t('mk.saved') : ''}
              </span>
            </div>
          ) : null}
        </form>
        <MessagePreview pid={pid} channel={form.channel} preview={preview.data} pending={preview.isFetching} contactId={contactId} onContact={setContactId} />
      </div>
      {preview.error && !isContentProblem(preview.error) ? <ErrorMessage error={preview.error} /> : null}
      {mid && message.data && canSend ? <SendPanel pid={pid} mid={mid} messageName={message.data.name} /> : null}
      {!mid && canSend ? <p className="hint">{t('messages.saveToSend')}</p> : null}
    </>
  );
}
