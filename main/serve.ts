/** Headless entry: `npm run serve -- [options]`. Starts the appliance core and prints one ready line. */
import { Appliance } from './core/appliance.js';
import { createLogger } from './core/logger.js';
import { loadOptions, OptionsError } from './core/options.js';

async function main(): Promise<void> {
  let options;
  try {
    options = loadOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof OptionsError) {
      console.error(`ecdn-appliance: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(options.logLevel);
  let appliance: Appliance;
  try {
    appliance = await Appliance.start(options, log);
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'could not start');
    console.error(`ecdn-appliance: could not start: ${(err as Error).message}`);
    process.exit(1);
  }
  if (appliance.adminToken.generated) {
    console.log(
      `Admin token (generated; stored in ${options.dataDir}/admin-token, shown only now): ${appliance.adminToken.token}`,
    );
  }
  const { rtmp, origin, admin } = appliance.urls;
  console.log(
    `ecdn-appliance ready: ingest ${rtmp} origin ${origin} admin ${admin}api/v1/ data ${options.dataDir}`,
  );

  let signals = 0;
  const shutdown = (signal: string) => {
    if (++signals > 1) {
      console.error(`ecdn-appliance: ${signal} again, exiting now`);
      process.exit(1);
    }
    log.info({ signal }, 'signal received');
    appliance.stop().then(
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
