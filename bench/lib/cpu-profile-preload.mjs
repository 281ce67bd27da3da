/**
 * Preloaded into the appliance (NODE_OPTIONS=--import) when BENCH_CPU_PROFILE_DIR is set (applianceStartEnv in
 * section.ts): a V8 CPU profile of the whole process, written as <pid>.cpuprofile on exit (Chrome DevTools or
 * speedscope open it). Node 20 refuses --cpu-prof in NODE_OPTIONS, hence the inspector session.
 */
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';

const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 250 });
  session.post('Profiler.start');
  process.on('exit', () => {
    // The in-process session answers synchronously, so this completes inside the exit handler.
    session.post('Profiler.stop', (err, result) => {
      if (!err) fs.writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
