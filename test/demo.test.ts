// `npm run demo` is the project's main job: it must keep working end to end.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

describe('npm run demo', function () {
  this.timeout(120_000);

  it('runs the honest client and every attack as expected, and exits 0', () => {
    // Exactly as `npm run demo` runs it: OpenTelemetry preloaded, no exporter configured.
    const dist = path.join(__dirname, '..');
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('OTEL_')) delete env[k];
    const r = spawnSync(process.execPath, ['--require', path.join(dist, 'examples', 'otel-preload.js'), path.join(dist, 'examples', 'demo.js')], {
      encoding: 'utf8',
      timeout: 110_000,
      env,
    });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include('honest client: all calls OK');
    expect(r.stdout).to.match(/attacks: (\d+)\/\1 as expected/);
    expect(r.stdout).to.not.include('UNEXPECTED');
    // The audit table comes from the embedded store: refusals with reasons and trace ids.
    expect(r.stdout).to.match(/deny\s+replayed_nonce\s+frontend\s.*\s[0-9a-f]{32}\n/);
    expect(r.stdout).to.match(/allow\s+-\s+frontend\s+alice\s/);
    expect(r.stdout).to.match(/deny\s+caveat_failed\s+frontend\s+alice\s/);
    // Signed responses (spec §13): the client catches a tampered response itself.
    expect(r.stdout).to.match(/as expected\s+honest balance, signed and verified\s+OK\s+response verified/);
    expect(r.stdout).to.match(/as expected\s+response: balance rewritten.*DATA_LOSS\s+response refused bad_response_tag/);
  });
});
