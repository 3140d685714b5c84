// The npm package as a user gets it: one tarball (`npm pack`), checked by publint and
// Are The Types Wrong, installed into fresh ESM, CommonJS and TypeScript projects (module
// resolution nodenext and node), each of which makes an authenticated call over loopback.
// Installs reuse the npm cache (--prefer-offline) and run side by side; progress is printed.
import { expect } from 'chai';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'node_modules', '.bin');
/** TypeScript 5.9 (the typedoc workspace's): TypeScript 7 no longer has moduleResolution node. */
const TSC5 = path.join(ROOT, 'tools', 'apidoc', 'node_modules', '.bin', 'tsc');
const run = promisify(execFile);
const progress = (text: string) => process.stderr.write(`      [package] ${text}\n`);

/** The consumer's program, in each module flavour: a server and a signed call, then an unsigned one. */
const PROGRAM = (flavour: 'cjs' | 'esm' | 'ts') => {
  const imports = {
    cjs: `const grpc = require('@grpc/grpc-js');
const { generateRootKeyring, issueCredential, Policy, staticKeySource } = require('reqauth');
const { ReqauthServer, reqauthClientOptions, requireClaims } = require('reqauth/grpc-js');
const protoPath = require.resolve('reqauth/proto/reqauth/v1/options.proto');`,
    esm: `import * as grpc from '@grpc/grpc-js';
import { fileURLToPath } from 'node:url';
import { generateRootKeyring, issueCredential, Policy, staticKeySource } from 'reqauth';
import { ReqauthServer, reqauthClientOptions, requireClaims } from 'reqauth/grpc-js';
const protoPath = fileURLToPath(import.meta.resolve('reqauth/proto/reqauth/v1/options.proto'));`,
    ts: `import * as grpc from '@grpc/grpc-js';
import { generateRootKeyring, issueCredential, Policy, staticKeySource, type ClientCredential } from 'reqauth';
import { ReqauthServer, reqauthClientOptions, requireClaims } from 'reqauth/grpc-js';
import type { AuditQuery } from 'reqauth/audit-store';
const query: AuditQuery = { decision: 'deny' };
void query;
const protoPath = require.resolve('reqauth/proto/reqauth/v1/options.proto');`,
  }[flavour];
  const t = flavour === 'ts';
  return `${imports}
import_fs_placeholder
const json = {
  serialize: (v${t ? ': unknown' : ''}) => Buffer.from(JSON.stringify(v)),
  deserialize: (b${t ? ': Buffer' : ''}) => JSON.parse(b.toString()),
};
const Echo = {
  echo: {
    path: '/pkgtest.Echo/Echo', requestStream: false, responseStream: false, originalName: 'Echo',
    requestSerialize: json.serialize, requestDeserialize: json.deserialize,
    responseSerialize: json.serialize, responseDeserialize: json.deserialize,
  },
};
const call = (client${t ? ': any' : ''}, md${t ? '?: object' : ''}) =>
  new Promise${t ? '<{ code: number; reply?: unknown }>' : ''}((resolve) =>
    client.echo({ say: 'hi' }, (err${t ? ': grpc.ServiceError | null' : ''}, reply${t ? ': unknown' : ''}) => resolve(err ? { code: err.code } : { code: 0, reply })));

async function main() {
  const ring = generateRootKeyring();
  const auth = new ReqauthServer({ keys: staticKeySource(ring, 'echo'), policy: new Policy({ '/pkgtest.Echo/Echo': { roles: ['caller'] } }) });
  const server = new grpc.Server({ interceptors: [auth.interceptor] });
  let handled = 0;
  auth.addService(server, Echo, {
    echo(c${t ? ': any' : ''}, done${t ? ': any' : ''}) {
      handled++;
      done(null, { said: c.request.say, by: requireClaims(c).principal });
    },
  });
  const port = await new Promise${t ? '<number>' : ''}((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const Client = grpc.makeGenericClientConstructor(Echo, 'Echo');
  const credential${t ? ': ClientCredential' : ''} = issueCredential(ring, 'echo', 'consumer', ['caller']);
  const signed = new Client('127.0.0.1:' + port, grpc.credentials.createInsecure(), reqauthClientOptions({ credential }));
  const unsigned = new Client('127.0.0.1:' + port, grpc.credentials.createInsecure());
  const honest = await call(signed);
  const refused = await call(unsigned);
  signed.close();
  unsigned.close();
  server.forceShutdown();
  console.log(JSON.stringify({ honest, refused: refused.code, handled, proto: existsSync(protoPath) }));
}
main().catch((err) => { console.error(err); process.exit(1); });
`.replace('import_fs_placeholder', flavour === 'cjs' ? "const { existsSync } = require('node:fs');" : "import { existsSync } from 'node:fs';");
};

interface Project {
  readonly name: string;
  readonly type: 'module' | 'commonjs';
  readonly file: string;
  readonly source: string;
  readonly tsconfig?: object;
  readonly tsc?: string;
  readonly extraDeps?: string[];
  readonly run: string;
}

const PROJECTS: Project[] = [
  { name: 'esm', type: 'module', file: 'main.js', source: PROGRAM('esm'), run: 'main.js' },
  { name: 'cjs', type: 'commonjs', file: 'main.js', source: PROGRAM('cjs'), run: 'main.js' },
  {
    name: 'ts-nodenext',
    type: 'commonjs',
    file: 'main.ts',
    source: PROGRAM('ts'),
    tsconfig: { compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, outDir: 'out', types: ['node'] }, include: ['main.ts'] },
    tsc: path.join(BIN, 'tsc'),
    extraDeps: ['@types/node@^20'],
    run: 'out/main.js',
  },
  {
    name: 'ts-node10',
    type: 'commonjs',
    file: 'main.ts',
    source: PROGRAM('ts'),
    // skipLibCheck, as most such projects have: this one is about resolving reqauth/grpc-js
    // through typesVersions; ts-nodenext checks reqauth's declarations themselves.
    tsconfig: { compilerOptions: { module: 'commonjs', moduleResolution: 'node', target: 'es2022', strict: true, skipLibCheck: true, outDir: 'out', types: ['node'] }, include: ['main.ts'] },
    tsc: TSC5,
    extraDeps: ['@types/node@^20'],
    run: 'out/main.js',
  },
];

describe('the npm package, from its tarball', function () {
  this.timeout(240_000);
  let dir: string;
  let tarball: string;
  let listing: string[];
  const installs = new Map<string, Promise<void>>();

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'reqauth-package-'));
    // npm test has just built dist/; prepack (npm run build) is for packing from a clean tree.
    progress('npm pack (one tarball for every check and project)');
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT });
    const packed = (JSON.parse(stdout) as { filename: string; files: { path: string }[] }[])[0]!;
    tarball = path.join(dir, packed.filename);
    listing = packed.files.map((f) => f.path);
    const grpcVersion = (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', '@grpc', 'grpc-js', 'package.json'), 'utf8')) as { version: string }).version;
    progress(`installing it into ${PROJECTS.map((p) => p.name).join(', ')} (npm install --prefer-offline, side by side)`);
    for (const p of PROJECTS) {
      const home = path.join(dir, p.name);
      mkdirSync(home);
      writeFileSync(path.join(home, 'package.json'), JSON.stringify({ name: `consumer-${p.name}`, private: true, type: p.type }));
      writeFileSync(path.join(home, p.file), p.source);
      if (p.tsconfig) writeFileSync(path.join(home, 'tsconfig.json'), JSON.stringify(p.tsconfig));
      const started = Date.now();
      const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball, `@grpc/grpc-js@${grpcVersion}`, ...(p.extraDeps ?? [])], { cwd: home }).then(() => {
        progress(`installed into ${p.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      });
      install.catch(() => undefined); // observed by the project's test
      installs.set(p.name, install);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('publint finds nothing to report (--strict)', () => {
    const r = spawnSync(path.join(BIN, 'publint'), ['run', '--strict', tarball], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.not.match(/Suggestions|Warnings|Errors/);
  });

  it('Are The Types Wrong: every entry point resolves under node10, node16 (from CJS and ESM) and bundler', () => {
    const r = spawnSync(path.join(BIN, 'attw'), [tarball, '--format', 'table-flipped'], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.include('No problems found');
  });

  it('ships the LICENSE, proto/, the CLI, and source maps whose sources are in the package', () => {
    const files = new Set(listing);
    for (const f of ['LICENSE', 'README.md', 'proto/reqauth/v1/options.proto', 'proto/reqauth/v1/envelope.proto', 'dist/cli/reqauth.js', 'dist/src/index.d.ts']) {
      expect(files.has(f), f).to.equal(true);
    }
    const license = readFileSync(path.join(ROOT, 'LICENSE'), 'utf8');
    expect(license).to.include('Apache License').and.include('Version 2.0, January 2004');
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { license: string; scripts: Record<string, string> };
    expect(manifest.license).to.equal('Apache-2.0');
    expect(manifest.scripts['prepack'], 'npm pack from a clean clone builds first').to.equal('npm run build');
    const maps = listing.filter((f) => f.endsWith('.map'));
    expect(maps.length).to.be.greaterThan(50);
    for (const m of maps) {
      const map = JSON.parse(readFileSync(path.join(ROOT, m), 'utf8')) as { sources: string[] };
      for (const s of map.sources) expect(files.has(path.posix.join(path.posix.dirname(m), s)), `${m} -> ${s}`).to.equal(true);
    }
    expect(listing.some((f) => f.startsWith('dist/test/') || f.startsWith('dist/examples/') || f.startsWith('docs/api/'))).to.equal(false);
  });

  for (const p of PROJECTS) {
    it(`${p.name}: installs, ${p.tsc ? 'type-checks, ' : ''}and makes an authenticated call (an unsigned one is refused)`, async () => {
      await installs.get(p.name);
      const home = path.join(dir, p.name);
      if (p.tsc) {
        const tsc = spawnSync(p.tsc, ['-p', home], { encoding: 'utf8' });
        expect(tsc.status, tsc.stdout + tsc.stderr).to.equal(0);
      }
      const r = spawnSync(process.execPath, [p.run], { cwd: home, encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).to.equal(0);
      expect(JSON.parse(r.stdout)).to.deep.equal({ honest: { code: 0, reply: { said: 'hi', by: 'consumer' } }, refused: 16, handled: 1, proto: true });
    });
  }

  it('the installed bin: reqauth --version', async () => {
    await installs.get('cjs');
    const r = spawnSync(path.join(dir, 'cjs', 'node_modules', '.bin', 'reqauth'), ['--version'], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout.trim()).to.equal((JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    expect(existsSync(path.join(dir, 'cjs', 'node_modules', 'reqauth', 'LICENSE'))).to.equal(true);
  });
});
