// i18next set-up. The English catalog is bundled as the fallback so the UI is readable even without
// the i18n plugin; every language (English included) is then loaded from the server, GET
// /api/i18n/{locale}?ns=web (API.md §4.8), and switching language swaps catalogs without a reload.
import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import en_web from '@locales/en/web.json';
import { get, set_api_language } from './api/client';
import { unflatten_namespace } from './lib/format';

export const kNamespace = 'web';
export const kLanguageKey = 'runicorn.language';

interface CatalogResponse {
  locale: string;
  messages: Record<string, string>;
}

export function stored_language(): string | null {
  try {
    return window.localStorage.getItem(kLanguageKey);
  } catch {
    return null;
  }
}

export function initial_language(): string {
  const stored = stored_language();
  if (stored) return stored;
  const nav = typeof navigator !== 'undefined' ? navigator.language : 'en';
  return /^zh(-(cn|hans|sg))?$/i.test(nav) || /^zh-hans/i.test(nav) ? 'zh-CN' : 'en';
}

void i18n.use(initReactI18next).init({
  resources: { en: { [kNamespace]: en_web } },
  lng: 'en',
  fallbackLng: 'en',
  ns: [kNamespace],
  defaultNS: kNamespace,
  interpolation: { escapeValue: false },
  returnNull: false,
  initImmediate: false,
});

/** Fetches the server's catalog for `lng` and switches to it; on failure keeps the bundled English. */
export async function load_language(lng: string): Promise<string> {
  try {
    const cat = await get<CatalogResponse>(`/api/i18n/${encodeURIComponent(lng)}?ns=${kNamespace}`);
    const served = cat.locale || lng;
    const bundle = unflatten_namespace(cat.messages ?? {}, kNamespace);
    i18n.addResourceBundle(served, kNamespace, bundle, true, true);
    if (served !== lng) i18n.addResourceBundle(lng, kNamespace, bundle, true, true);
  } catch {
    // The i18n plugin may be missing: the bundled English fallback still renders every string.
  }
  set_api_language(lng);
  await i18n.changeLanguage(lng);
  try {
    window.localStorage.setItem(kLanguageKey, lng);
  } catch {
    // private mode: the choice lasts for this page only
  }
  document.documentElement.lang = lng;
  return lng;
}

export default i18n;
