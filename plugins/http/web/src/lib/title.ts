// The browser tab's title: "<page> · Runicorn" in the UI language (app.document_title).
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';

/** Sets document.title to the page's title while `page` is not null; follows language changes. */
export function use_document_title(page: string | null): void {
  const { t, i18n } = useTranslation();
  useEffect(() => {
    if (page === null) return;
    document.title = page ? t('app.document_title', { page, app: t('app.title') }) : t('app.title');
  }, [page, t, i18n.language]);
}
