import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../../api/client';
import { usePickableContacts } from '../../api/contact-picker';
import type { Channel, Preview } from '../../api/messages';
import { RadioGroup, SelectField } from '../../ui/controls';

type View = 'desktop' | 'mobile' | 'text';

/**
 * The email HTML as the previewing admin's frame may show it: the open pixel is left out (loading it
 * is a hit; its URL is listed below instead), everything else is exactly what the recipient gets.
 */
export function framedHtml(preview: Preview): string {
  const html = preview.html ?? '';
  const pixel = preview.openPixelUrl;
  if (!pixel) return html;
  const at = html.indexOf(`<img src="${pixel}"`);
  if (at === -1) return html;
  const end = html.indexOf('>', at);
  return end === -1 ? html : html.slice(0, at) + html.slice(end + 1);
}

/**
 * The preview frames' sandbox: an opaque origin (no cookie, no access to the app), no form, popup or
 * navigation of the app. `allow-scripts` only lets accessibility checkers and browser tools look inside;
 * the frame inherits the app's CSP, which runs no inline script, so the previewed HTML runs none.
 */
export const FRAME_SANDBOX = 'allow-scripts';

/** SMS parts: 160 GSM characters, or 153 each once split. */
const smsParts = (text: string) => (text.length <= 160 ? 1 : Math.ceil(text.length / 153));

export function MessagePreview({
  pid,
  channel,
  preview,
  pending,
  contactId,
  onContact,
}: {
  pid: string;
  channel: Channel;
  preview: Preview | undefined;
  pending: boolean;
  contactId: string;
  onContact: (id: string) => void;
}) {
  const { t } = useTranslation();
  const [view, setView] = useState<View>('desktop');
  const contacts = usePickableContacts(pid, '');
  const shown = channel === 'email' ? view : 'text';
  return (
    <section className="panel preview-panel" aria-labelledby="preview-title" aria-busy={pending}>
      <h2 id="preview-title">{t('messages.preview.title')}</h2>
      <div className="toolbar">
        <SelectField label={t('messages.preview.as')} value={contactId} onChange={(e) => onContact(e.target.value)}>
          <option value="">{t('messages.preview.sample')}</option>
          {contacts.data?.map((c) => (
            <option key={c.id} value={c.id}>
              {c.email ?? c.externalId ?? c.id} · {t(`messages.preview.status.${c.tracked ? 'tracked' : 'untracked'}`)}
            </option>
          ))}
        </SelectField>
        {channel === 'email' ? (
          <RadioGroup
            legend={t('messages.preview.view')}
            name="view"
            inline
            value={view}
            onChange={setView}
            options={[
              { value: 'desktop', label: t('messages.preview.desktop') },
              { value: 'mobile', label: t('messages.preview.mobile') },
              { value: 'text', label: t('messages.preview.text') },
            ]}
          />
        ) : null}
      </div>
      {!preview ? <p className="hint">{t('messages.preview.empty')}</p> : null}
      {preview ? (
        <>
          {preview.contact ? (
            <p className={preview.contact.tracked ? 'note' : 'note untracked'}>
              {t(preview.contact.tracked ? 'messages.preview.trackedNote' : 'messages.preview.untrackedNote')}
            </p>
          ) : null}
          {channel === 'email' ? (
            <dl className="facts compact">
              <dt>{t('messages.subject')}</dt>
              <dd>{preview.subject}</dd>
            </dl>
          ) : null}
          {channel === 'push' ? (
            <div className="push-card">
              <strong>{preview.title}</strong>
              <p>{preview.text}</p>
              {preview.url ? <p className="mono">{preview.url}</p> : null}
            </div>
          ) : null}
          {channel === 'sms' ? (
            <div className="sms-bubble">
              <p>{preview.text}</p>
              <p className="hint">{t('messages.preview.smsLength', { chars: (preview.text ?? '').length, parts: smsParts(preview.text ?? '') })}</p>
            </div>
          ) : null}
          {channel === 'email' && shown !== 'text' ? (
            <div className={`frame-wrap ${shown}`}>
              <iframe
                title={t(shown === 'mobile' ? 'messages.preview.frameMobile' : 'messages.preview.frameDesktop')}
                sandbox={FRAME_SANDBOX}
                srcDoc={framedHtml(preview)}
                className={`email-frame ${shown}`}
              />
            </div>
          ) : null}
          {channel === 'email' && shown === 'text' ? (
            <pre className="plain-text">
              {preview.text ?? t('messages.preview.noText')}
            </pre>
          ) : null}
          <h3>{t('messages.preview.links')}</h3>
          {preview.links.length === 0 && !preview.openPixelUrl ? <p className="hint">{t('messages.preview.noLinks')}</p> : null}
          <ul className="link-list">
            {preview.links.map((link) => (
              <li key={link.trackingUrl}>
                <span className="mono">{link.url}</span>
                <span aria-hidden="true"> → </span>
                <span className="visually-hidden">{t('messages.preview.becomes')}</span>
                <span className="mono tracking-url">{link.trackingUrl}</span>
              </li>
            ))}
            {preview.openPixelUrl ? (
              <li>
                <span>{t('messages.preview.pixel')}</span> <span className="mono tracking-url">{preview.openPixelUrl}</span>
              </li>
            ) : null}
          </ul>
          <p className="hint">{t('messages.preview.linksNote')}</p>
        </>
      ) : null}
    </section>
  );
}

/** Whether a failed preview is about the content (shown beside the fields) rather than the request. */
export const isContentProblem = (error: unknown): boolean => error instanceof ApiError && error.status === 400 && error.errors.length > 0;
