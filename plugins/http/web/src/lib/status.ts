// Run status helpers. A crash is status "failed" with one of the crash exit reasons (FORMAT.md §4.2,
// RELIABILITY.md T01); the UI shows that pair as "crashed", a status no writer stores. Pure functions.

export const kCrashReasons = ['process_not_found', 'heartbeat_lost', 'host_rebooted'] as const;

/** The status to show: "crashed" for a failed run with a crash exit reason, else the status itself. */
export function display_status(status: string | null | undefined, exit_reason?: string | null): string {
  const s = status ?? 'unknown';
  if (s === 'failed' && exit_reason && (kCrashReasons as readonly string[]).includes(exit_reason)) return 'crashed';
  return s;
}

/**
 * The filter expression (API.md §4.2) equivalent to `status=<list>` where the list may hold the
 * pseudo-status "crashed", for servers that refuse `status=crashed`; null when there is no status.
 */
export function status_filter_expression(statuses: string[]): string | null {
  if (!statuses.length) return null;
  const reasons = kCrashReasons.map((r) => `"${r}"`).join(', ');
  const crash = `(status = "failed" AND exit_reason IN (${reasons}))`;
  const plain = statuses.filter((s) => s !== 'crashed');
  const parts: string[] = [];
  if (plain.length) parts.push(`status IN (${plain.map((s) => JSON.stringify(s)).join(', ')})`);
  if (statuses.includes('crashed')) parts.push(crash);
  return parts.length > 1 ? `(${parts.join(' OR ')})` : parts[0];
}
