// The designed error state: a clear title, the server's message, and a retry button. A 404/405/501
// from a route this server does not have yet reads "not available" instead of a raw status.
import { Button, Result } from 'antd';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';

export function error_text(error: unknown, t: (k: string) => string): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return t('common.network_error');
    if (error.status === 405 || error.status === 501 || (error.status === 404 && error.code === 'NOT_FOUND' &&
        error.message === 'Not Found')) return t('common.not_available');
    if (error.status === 503) return error.message;
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export function ErrorState({ error, onRetry, compact }: { error: unknown; onRetry?: () => void; compact?: boolean }) {
  const { t } = useTranslation();
  return (
    <Result
      status={compact ? 'info' : 'warning'}
      title={t('common.error_title')}
      subTitle={error_text(error, t)}
      style={compact ? { padding: 16 } : undefined}
      extra={onRetry ? <Button onClick={onRetry}>{t('common.retry')}</Button> : undefined}
      data-testid="error-state"
    />
  );
}
