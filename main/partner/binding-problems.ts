/**
 * Every way the partner binding can fail, defined once: the code the status carries, the message staff see,
 * and the fix. The README's eCDN troubleshooting table is rendered from this list and a test keeps them in step.
 */

export interface BindingProblem {
  /** What the status and "Test connection" say (`{partner}`, `{node}` and `{detail}` filled in). */
  message: string;
  /** What to do about it, in the partner IT's words. */
  fix: string;
}

export const BINDING_PROBLEMS = {
  WRONG_SECRET: {
    message: 'the service refused the admin secret of partner {partner} ({detail})',
    fix: "Copy the partner's **admin secret** again from the KMC (Settings → Integration Settings) and save it in the settings page, or in `ECDN_PARTNER_SECRET` / `--partner-secret-file`.",
  },
  UNKNOWN_PARTNER: {
    message: 'the service knows no partner {partner} ({detail})',
    fix: 'Check the **partner id** (KMC → Settings → Integration Settings) and the service URL: an on-premises Kaltura has its own partners.',
  },
  SERVICE_UNREACHABLE: {
    message: 'could not reach the Kaltura service ({detail})',
    fix: "Check the service URL, DNS and the site's proxy or firewall: the appliance needs outbound HTTPS to the service. Publishes are refused (fail closed) until it answers, unless `--auth-grace` is set.",
  },
  SERVICE_NOT_KALTURA: {
    message: 'the service URL does not answer like the Kaltura API ({detail})',
    fix: 'Use the address of the Kaltura API itself (e.g. `https://www.kaltura.com`, or the on-premises API host), not a KMC page or a redirecting address.',
  },
  SERVICE_URL_INSECURE: {
    message: '{detail}',
    fix: 'Use the `https://` address of the service. `http://` is accepted only on loopback (a local proxy); there is no flag to send a KS in the clear.',
  },
  PARTNER_FEATURE_MISSING: {
    message:
      "the partner needs Kaltura's Hybrid eCDN feature (FEATURE_HYBRID_ECDN): every liveStream.authenticate answers SERVICE_FORBIDDEN",
    fix: 'Ask your Kaltura account manager (or the on-premises admin) to switch on **"Hybrid eCDN Architecture"** (FEATURE_HYBRID_ECDN) for partner {partner} in the admin console (Publishers → the partner → Configure).',
  },
  SERVER_NODE_MISSING: {
    message:
      'Kaltura has no media server node named "{node}", so every publish is refused (MEDIA_SERVER_NOT_FOUND)',
    fix: 'Let the appliance create its node (the partner needs FEATURE_SERVER_NODE), or create a **Wowza media server node** with host name `{node}` in the admin console (Server nodes → Add). The name must be exactly `--server-node-name`.',
  },
  NODE_FEATURE_MISSING: {
    message:
      'the partner lacks the server node feature (FEATURE_SERVER_NODE): the appliance cannot create or refresh its node "{node}"',
    fix: 'Ask Kaltura to switch on **server nodes** (FEATURE_SERVER_NODE) for partner {partner}, or create a Wowza media server node with host name `{node}` in the admin console (Server nodes → Add) and keep it enabled.',
  },
  SERVER_NODE_REFUSED: {
    message: 'the service refused to report the server node "{node}" ({detail})',
    fix: 'A node with this host name may belong to another partner or be disabled: pick another `--server-node-name`, or enable the node in the admin console.',
  },
} as const satisfies Record<string, BindingProblem>;

export type BindingProblemCode = keyof typeof BINDING_PROBLEMS;

export function bindingMessage(
  code: BindingProblemCode,
  v: { partner?: number; node?: string; detail?: string },
  field: keyof BindingProblem = 'message',
): string {
  return BINDING_PROBLEMS[code][field]
    .replace(/\{partner\}/g, v.partner !== undefined ? String(v.partner) : 'the partner')
    .replace(/\{node\}/g, v.node ?? '')
    .replace(/\{detail\}/g, v.detail ?? '');
}

/** The README's troubleshooting table (`npm run options-table` prints it too). */
export function bindingProblemsTable(): string {
  const cell = (s: string) =>
    s
      .replace(/\{partner\}/g, 'PARTNER')
      .replace(/\{node\}/g, 'NODE')
      .replace(/\{detail\}/g, '…');
  const rows = Object.entries(BINDING_PROBLEMS).map(
    ([code, p]) => `| \`${code}\` | ${cell(p.message)} | ${cell(p.fix)} |`,
  );
  return ['| code | the status says | fix |', '| --- | --- | --- |', ...rows].join('\n');
}
