// `npm test` runs the store, budget, cache and session tests against a real redis-server, which the tests start
// and stop themselves. This makes sure the binary is there: on Debian/Ubuntu as root it installs it with apt-get
// (as .ci/run does); anywhere else it says how, and fails.
import { execFileSync, spawnSync } from 'node:child_process';

const found = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
if (!found) {
  const canApt =
    process.platform === 'linux' &&
    process.getuid?.() === 0 &&
    spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!canApt) {
    console.error(
      'redis-server is not installed; the tests need it. Install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) and run npm test again.',
    );
    process.exit(1);
  }
  console.error('redis-server is not installed; installing it with apt-get (the tests start their own server)…');
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'redis-server'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}
