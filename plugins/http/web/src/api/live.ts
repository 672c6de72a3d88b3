// WebSocket helpers for the live streams (API.md §3). `open_stream` reconnects with backoff and lets
// the caller choose the URL per attempt (so a metric stream resumes with since=<cursor>).

export interface StreamHandle {
  close(): void;
  send(data: unknown): void;
}

export interface StreamCallbacks {
  url: () => string;
  onMessage: (data: string) => void;
  onState?: (state: 'connecting' | 'open' | 'closed') => void;
  /** Return false to stop reconnecting (e.g. the run ended and the stream said so). */
  shouldReconnect?: () => boolean;
}

export function open_stream(cb: StreamCallbacks): StreamHandle {
  let ws: WebSocket | null = null;
  let stopped = false;
  let attempt = 0;
  let timer: number | undefined;

  const connect = () => {
    if (stopped) return;
    cb.onState?.('connecting');
    try {
      ws = new WebSocket(cb.url());
    } catch {
      schedule();
      return;
    }
    ws.onopen = () => {
      attempt = 0;
      cb.onState?.('open');
    };
    ws.onmessage = (ev) => cb.onMessage(typeof ev.data === 'string' ? ev.data : '');
    ws.onclose = () => {
      cb.onState?.('closed');
      ws = null;
      if (!stopped && (cb.shouldReconnect?.() ?? true)) schedule();
    };
    ws.onerror = () => ws?.close();
  };
  const schedule = () => {
    if (stopped) return;
    const delay = Math.min(10000, 500 * Math.pow(2, attempt++));
    timer = window.setTimeout(connect, delay);
  };
  connect();
  return {
    close() {
      stopped = true;
      window.clearTimeout(timer);
      ws?.close();
    },
    send(data: unknown) {
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(data));
    },
  };
}
