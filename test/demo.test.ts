// `npm run demo` is the project's main job: it must keep working end to end.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

describe('npm run demo', function () {
  this.timeout(120_000);

  it('runs the honest client and every attack as expected, and exits 0', () => {
    const demo = path.join(__dirname, '..', 'examples', 'demo.js');
    const r = spawnSync(process.execPath, [demo], { encoding: 'utf8', timeout: 110_000 });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include('honest client: all calls OK');
    expect(r.stdout).to.match(/attacks: (\d+)\/\1 as expected/);
    expect(r.stdout).to.not.include('UNEXPECTED');
  });
});
