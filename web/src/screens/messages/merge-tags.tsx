import { useTranslation } from 'react-i18next';

/** The merge tags a message may hold (src/domain/render.ts), with what each gives. */
const TAGS = [
  { tag: '{{contact.email}}', key: 'email' },
  { tag: '{{contact.firstName | "there"}}', key: 'field' },
  { tag: '{{contact.fields.city}}', key: 'fields' },
  { tag: '{{contact.id}}', key: 'id' },
  { tag: '{{contact.externalId}}', key: 'externalId' },
  { tag: '{{contact.phone}}', key: 'phone' },
  { tag: '{{message.name}}', key: 'messageName' },
  { tag: '{{unsubscribeUrl}}', key: 'unsubscribeUrl' },
  { tag: '{{trackingOptOutUrl}}', key: 'trackingOptOutUrl' },
  { tag: '{{profileUrl}}', key: 'profileUrl' },
] as const;

/** Help on merge tags; "Insert" puts a tag where the cursor was in the last field edited. */
export function MergeTagHelp({ onInsert, target }: { onInsert: ((tag: string) => void) | null; target: string | null }) {
  const { t } = useTranslation();
  return (
    <details className="merge-tags">
      <summary>{t('messages.tags.title')}</summary>
      <p className="hint">{t('messages.tags.intro')}</p>
      <ul>
        {TAGS.map(({ tag, key }) => (
          <li key={tag}>
            <code>{tag}</code> <span>{t(`messages.tags.${key}`)}</span>
            {onInsert ? (
              <button type="button" className="small" onClick={() => onInsert(tag)} aria-label={t('messages.tags.insertNamed', { tag, field: target ?? '' })}>
                {t('messages.tags.insert')}
              </button>
            ) : null}
          </li>
        ))}
      </ul>
    </details>
  );
}
