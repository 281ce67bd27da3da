/** Headless entry: `npm run serve -- [options]`. Starts the appliance core and prints one ready line. */
import type { Appliance } from './appliance.js';
import { ApplianceHost } from './host.js';
import { createLogger } from '../lib/logger.js';
import { loadOptions, OptionsError } from './options.js';
import { FileSettingsStore } from '../settings/file-settings-store.js';

function ready(appliance: Appliance): void {
  const { options } = appliance;
  if (appliance.adminToken.generated) {
    // On a terminal, shown once; under a service manager (stdout is the journal, readable by more than the
    // owner) only where it is, so the token never lands in a log.
    console.log(
      process.stdout.isTTY
        ? `Admin token (generated; stored in ${options.dataDir}/admin-token, shown only now): ${appliance.adminToken.token}`
        : `Admin token generated and stored in ${options.dataDir}/admin-token (mode 0600); it is not printed here`,
    );
  }
  const { rtmp, origin, admin } = appliance.urls;
  console.log(
    `ecdn-appliance ready: ingest ${rtmp} origin ${origin} admin ${admin}api/v1/ dashboard ${admin} data ${options.dataDir}`,
  );
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let flagsOnly;
  try {
    // Flags and environment alone decide the data directory, where the stored settings are.
    flagsOnly = loadOptions(argv);
  } catch (err) {
    if (err instanceof OptionsError) {
      console.error(`ecdn-appliance: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(flagsOnly.logLevel);
  let host: ApplianceHost;
  try {
    host = await ApplianceHost.start({
      argv,
      env: process.env,
      settings: new FileSettingsStore(flagsOnly.dataDir),
      log,
      onStarted: ready,
    });
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'could not start');
    console.error(`ecdn-appliance: could not start: ${(err as Error).message}`);
    process.exit(err instanceof OptionsError ? 2 : 1);
  }

  let signals = 0;
  const shutdown = (signal: string) => {
    if (++signals > 1) {
      console.error(`ecdn-appliance: ${signal} again, exiting now`);
      process.exit(1);
    }
    log.info({ signal }, 'signal received');
    host.stop().then(
      () => process.exit(0),
      (err: Error) => {
        log.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

void main();
