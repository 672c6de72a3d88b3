import { describe, expect, it } from 'vitest';
import { display_status, status_filter_expression } from './status';

describe('display_status', () => {
  it('shows a failed run with a crash reason as crashed', () => {
    expect(display_status('failed', 'process_not_found')).toBe('crashed');
    expect(display_status('failed', 'heartbeat_lost')).toBe('crashed');
    expect(display_status('failed', 'host_rebooted')).toBe('crashed');
  });
  it('keeps other statuses and reasons', () => {
    expect(display_status('failed', 'exception')).toBe('failed');
    expect(display_status('failed', null)).toBe('failed');
    expect(display_status('finished', 'process_not_found')).toBe('finished');
    expect(display_status(null)).toBe('unknown');
    expect(display_status('crashed')).toBe('crashed');
  });
});

describe('status_filter_expression', () => {
  it('is null without statuses', () => {
    expect(status_filter_expression([])).toBeNull();
  });
  it('lists plain statuses', () => {
    expect(status_filter_expression(['running', 'failed'])).toBe('status IN ("running", "failed")');
  });
  it('turns crashed into failed with a crash reason', () => {
    expect(status_filter_expression(['crashed']))
      .toBe('(status = "failed" AND exit_reason IN ("process_not_found", "heartbeat_lost", "host_rebooted"))');
    expect(status_filter_expression(['running', 'crashed']))
      .toBe('(status IN ("running") OR (status = "failed" AND exit_reason IN ("process_not_found", "heartbeat_lost", "host_rebooted")))');
  });
});
