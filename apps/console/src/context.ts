import { createContext, useContext } from 'react';
import { ApiError, type Api } from './api';

export interface ApiContextValue {
  api: Api;
  /** A call answered 401: the key was revoked or the server's keys changed. */
  unauthorized(detail: string): void;
}

export const ApiContext = createContext<ApiContextValue | null>(null);

export function useApi(): ApiContextValue {
  const value = useContext(ApiContext);
  if (value === null) throw new Error('useApi outside a signed-in console');
  return value;
}

/** The words to show for a failed call; a 401 also signs out. */
export function describeError(error: unknown, ctx: ApiContextValue): string {
  if (error instanceof ApiError && error.status === 401) ctx.unauthorized(error.message);
  return error instanceof Error ? error.message : String(error);
}
