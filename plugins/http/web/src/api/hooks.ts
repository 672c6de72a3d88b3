// React hooks around the API client: one-shot loads with loading/error state and a reload function,
// polling that updates in place (the previous data stays on screen while the next load runs).
import { useCallback, useEffect, useRef, useState } from 'react';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change and every `interval_ms` (0 = never); stale answers are dropped. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[], interval_ms = 0): Loaded<T> {
  const [data, set_data] = useState<T | undefined>(undefined);
  const [error, set_error] = useState<unknown>(null);
  const [loading, set_loading] = useState(true);
  const [tick, set_tick] = useState(0);
  const gen = useRef(0);
  const load_ref = useRef(load);
  load_ref.current = load;

  useEffect(() => {
    const my = ++gen.current;
    const ctl = new AbortController();
    set_loading(true);
    load_ref.current(ctl.signal).then(
      (d) => {
        if (gen.current !== my) return;
        set_data(d);
        set_error(null);
        set_loading(false);
      },
      (e) => {
        if (gen.current !== my || (e as Error)?.name === 'AbortError') return;
        set_error(e);
        set_loading(false);
      });
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);

  useEffect(() => {
    if (!interval_ms) return undefined;
    const id = window.setInterval(() => {
      if (document.visibilityState !== 'hidden') set_tick((t) => t + 1);
    }, interval_ms);
    return () => window.clearInterval(id);
  }, [interval_ms]);

  const reload = useCallback(() => set_tick((t) => t + 1), []);
  return { data, error, loading, reload };
}
