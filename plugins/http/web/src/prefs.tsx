// User preferences kept in localStorage (theme, refresh interval, live updates) and shared through
// a React context. Only the component tree reads it; writes go through set_prefs.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

export type ThemeMode = 'light' | 'dark' | 'auto';

export interface Prefs {
  theme: ThemeMode;
  refresh_seconds: number; // 0 = off
  live: boolean;
}

const kKey = 'runicorn.prefs';
const kDefaults: Prefs = { theme: 'auto', refresh_seconds: 5, live: true };

function load(): Prefs {
  try {
    const raw = window.localStorage.getItem(kKey);
    if (raw) return { ...kDefaults, ...(JSON.parse(raw) as Partial<Prefs>) };
  } catch {
    // fall through
  }
  return kDefaults;
}

interface PrefsContextValue {
  prefs: Prefs;
  set_prefs: (p: Partial<Prefs>) => void;
  dark: boolean;
}

const PrefsContext = createContext<PrefsContextValue>({ prefs: kDefaults, set_prefs: () => {}, dark: false });

function system_dark(): boolean {
  return typeof window !== 'undefined' && !!window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
}

export function PrefsProvider({ children }: { children: ReactNode }) {
  const [prefs, set] = useState<Prefs>(load);
  const [sys_dark, set_sys_dark] = useState(system_dark);
  useEffect(() => {
    if (!window.matchMedia) return undefined;
    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    const on = () => set_sys_dark(mq.matches);
    mq.addEventListener?.('change', on);
    return () => mq.removeEventListener?.('change', on);
  }, []);
  const set_prefs = useCallback((p: Partial<Prefs>) => {
    set((old) => {
      const next = { ...old, ...p };
      try {
        window.localStorage.setItem(kKey, JSON.stringify(next));
      } catch {
        // ignore
      }
      return next;
    });
  }, []);
  const dark = prefs.theme === 'dark' || (prefs.theme === 'auto' && sys_dark);
  const value = useMemo(() => ({ prefs, set_prefs, dark }), [prefs, set_prefs, dark]);
  return <PrefsContext.Provider value={value}>{children}</PrefsContext.Provider>;
}

export function usePrefs(): PrefsContextValue {
  return useContext(PrefsContext);
}
