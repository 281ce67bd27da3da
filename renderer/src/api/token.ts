/** The admin token of a browser session: kept in sessionStorage (gone when the tab closes). */
const KEY = 'ecdn.adminToken';

export function readToken(): string | null {
  try {
    return window.sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function writeToken(token: string): void {
  try {
    window.sessionStorage.setItem(KEY, token);
  } catch {
    // Storage disabled: the token lives as long as the page (see memory below).
  }
  memory = token;
}

export function clearToken(): void {
  try {
    window.sessionStorage.removeItem(KEY);
  } catch {
    // ignore
  }
  memory = null;
}

let memory: string | null = null;

/** The token, from storage or (when storage is disabled) from memory. */
export function currentToken(): string | null {
  return readToken() ?? memory;
}
