/** The admin listener's credentials: the admin token, as a Bearer token or as the Basic password. */
import { equalSecrets } from '../lib/random-id.js';

/** The request headers this check reads (a Fastify request, or a bare `IncomingMessage`). */
export interface CredentialRequest {
  headers: { authorization?: string | undefined };
}

/** Whether the request carries the admin token. */
export function hasAdminCredentials(req: CredentialRequest, token: string): boolean {
  const header = req.headers.authorization ?? '';
  let presented: string | undefined;
  if (header.startsWith('Bearer ')) presented = header.slice(7).trim();
  else if (header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    presented = decoded.slice(decoded.indexOf(':') + 1);
  }
  return presented !== undefined && equalSecrets(presented, token);
}

/** A check bound to the current token: what the listeners get injected. */
export type AdminCheck = (req: CredentialRequest) => boolean;

export function adminCheck(token: string): AdminCheck {
  return (req) => hasAdminCredentials(req, token);
}
