// Preloaded (`node --import`) into serverless-offline by the local launcher (scripts/local.ts), so that it never
// outlives the launcher, however the launcher ends (SIGKILL included: no handler runs then).
//
// The launcher starts serverless-offline in a process group of its own (so it can stop it and everything it starts,
// the esbuild service among them, with one signal) and hands it the read end of a pipe as stdin, never writing to
// it. The kernel closes the write end when the launcher exits for any reason; this module sees the end of stdin and
// kills its whole process group at once. Nothing there holds state worth a graceful stop: dynalite and the data
// live in the launcher.
//
// It acts only in the main thread (serverless-offline runs handlers in worker threads, which inherit --import) and
// only when the launcher asked for it through QFDATA_EXIT_WITH_PARENT, which it then removes so that processes
// started from here do not inherit the duty.
import { isMainThread } from 'node:worker_threads';

/** Kills this process's group (it leads one: the launcher spawns it detached), or this process alone if it does not. */
function killOwnGroup() {
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    process.kill(process.pid, 'SIGKILL');
  }
}

function exitWithParent() {
  delete process.env.QFDATA_EXIT_WITH_PARENT;
  const stdin = process.stdin;
  stdin.on('end', killOwnGroup);
  stdin.on('close', killOwnGroup);
  stdin.on('error', killOwnGroup);
  stdin.resume();
  // Watching must not keep the process alive on its own (serverless-offline exits by itself on SIGINT).
  stdin.unref?.();
}

if (isMainThread && process.env.QFDATA_EXIT_WITH_PARENT === 'stdin') exitWithParent();
