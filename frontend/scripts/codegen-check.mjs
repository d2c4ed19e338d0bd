// Fails when src/gql/ is not what `npm run codegen` makes from
// ../schema.graphql and the queries in src/ (run `npm run codegen`).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tmp = mkdtempSync(join(tmpdir(), 'herald-codegen-'));
try {
  execFileSync('npx', ['graphql-codegen', '--config', 'codegen.ts', '--silent'], {
    stdio: 'inherit',
    env: { ...process.env, CODEGEN_OUT: tmp + '/' },
  });
  const committed = 'src/gql';
  const names = new Set([...readdirSync(tmp), ...readdirSync(committed)]);
  const stale = [...names].filter((name) => {
    let a = null;
    let b = null;
    try { a = readFileSync(join(tmp, name), 'utf8'); } catch {}
    try { b = readFileSync(join(committed, name), 'utf8'); } catch {}
    return a !== b;
  });
  if (stale.length > 0) {
    console.error(`Generated GraphQL types are stale: ${stale.join(', ')} in src/gql/ differ from the schema and queries.`);
    console.error('Run `npm run codegen` in frontend/ and commit the result.');
    process.exit(1);
  }
  console.log('Generated GraphQL types are up to date.');
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
