// Env references: braced only, `$$` escapes, never expanded twice, whole references re-typed.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { expandEnv } from '../../pipeline/config/env';
import { formatDiagnostic, loadConfig } from '../../pipeline/config/load';
import { testRegistry } from '../fixtures/config/factories';

const F = path.relative(process.cwd(), path.join(__dirname, '../fixtures/config'));

describe('config env expansion', () => {
  describe('expandEnv', () => {
    const env = { A: 'x', B: 'has $ and ${env:A}', EMPTY: '' };

    it('expands ${env:NAME} and ${NAME}', () => {
      assert.equal(expandEnv('${env:A}-${A}', env).value, 'x-x');
    });

    it('leaves $NAME alone and turns $$ into $', () => {
      assert.equal(expandEnv('$A $$A $${env:A} $ $$', env).value, '$A $A ${env:A} $ $');
    });

    it('never expands an expanded value again', () => {
      assert.equal(expandEnv('${env:B}', env).value, 'has $ and ${env:A}');
    });

    it('uses the default only when the variable is unset', () => {
      assert.equal(expandEnv('${env:NOPE:-d:e-f}', env).value, 'd:e-f');
      assert.equal(expandEnv('${env:EMPTY:-d}', env).value, '');
      assert.equal(expandEnv('${NOPE:-}', env).value, '');
      assert.deepEqual(expandEnv('${NOPE:-}', env).problems, []);
    });

    it('turns an unset variable into "" with a warning', () => {
      assert.deepEqual(expandEnv('a${env:NOPE}b', env), {
        value: 'ab', whole: false, substituted: true,
        problems: [{ severity: 'warning', message: 'environment variable "NOPE" is not set; using ""' }],
      });
    });

    it('tells a whole reference from one inside a string', () => {
      assert.equal(expandEnv('${env:A}', env).whole, true);
      assert.equal(expandEnv(' ${env:A}', env).whole, false);
      assert.equal(expandEnv('${env:A}${env:A}', env).whole, false);
      assert.equal(expandEnv('plain', env).substituted, false);
    });

    it('rejects references it cannot expand', () => {
      assert.deepEqual(expandEnv('${file:/x}', env).problems.map((p) => p.message), [
        'unsupported reference "${file:/x}": only ${env:NAME} and ${NAME} expand (write $${...} for a literal)',
      ]);
      assert.deepEqual(expandEnv('${env:9X} ${}', env).problems.map((p) => p.message), [
        'invalid reference "${env:9X}": a variable name is a letter or "_" followed by letters, digits or "_"',
        'invalid reference "${}": a variable name is a letter or "_" followed by letters, digits or "_"',
      ]);
      assert.deepEqual(expandEnv('x ${env:A', env).problems.map((p) => p.message), [
        'unterminated reference "${env:A" (write $$ for a literal $)',
      ]);
    });
  });

  describe('in a config file', () => {
    const env = {
      HOST: 'collector', PORT: '4317', SIZE: '16', NUMBER: '42', ZIP: '0123', INSECURE: 'true', EMPTY: '',
      PASSWORD: 'pa$$w${env:HOST}rd$', YAMLISH: 'a: b',
    };
    const r = loadConfig([path.join(F, 'env.yaml')], testRegistry(), env);

    it('warns about unset variables at their position', () => {
      assert.deepEqual(r.diagnostics.map(formatDiagnostic), [
        `${F}/env.yaml:39:16: warning: processors::attributes: actions[8].value: environment variable "NOT_SET" is not set; using ""`,
      ]);
    });

    it('expands parsed values: whole references read as YAML, others stay strings', () => {
      const c = r.config!;
      assert.deepEqual(c.receivers.get('otlp')!.config, {
        protocols: { grpc: { endpoint: 'collector:4317', max_recv_msg_size_mib: 16 }, http: { endpoint: 'localhost:4318' } },
      });
      const values = Object.fromEntries((c.processors.get('attributes')!.config as { actions: { key: string; value: unknown }[] })
        .actions.map((a) => [a.key, a.value]));
      assert.deepEqual(values, {
        whole: 42, quoted: '42', inside: 'id-42', zip: '0123', bool: true, secret: 'pa$$w${env:HOST}rd$',
        yamlish: 'a: b', block: '42\n', unset: '[]', empty: '', default: 7,
      });
      const otlp = c.exporters.get('otlp')!.config as { endpoint: string; headers: Record<string, string>; tls: { insecure: boolean }; timeout: number };
      assert.equal(otlp.endpoint, '$HOST:4317');
      assert.deepEqual(otlp.headers, { literal: '${env:PASSWORD} and $5 and $5' });
      assert.equal(otlp.tls.insecure, true);
      assert.equal(otlp.timeout, 2000);
    });

    it('reports bad references with the component and key', () => {
      const bad = loadConfig([path.join(F, 'env-errors.yaml')], testRegistry(), {});
      assert.equal(bad.config, undefined);
      assert.deepEqual(bad.diagnostics.map(formatDiagnostic), [
        `${F}/env-errors.yaml:3:15: error: exporters::otlp: endpoint: unsupported reference "\${file:/etc/endpoint}": only \${env:NAME} and \${NAME} expand (write $\${...} for a literal)`,
        `${F}/env-errors.yaml:5:10: error: exporters::otlp: headers.a: invalid reference "\${env:1BAD}": a variable name is a letter or "_" followed by letters, digits or "_"`,
        `${F}/env-errors.yaml:6:10: error: exporters::otlp: headers.b: unterminated reference "\${env:OPEN" (write $$ for a literal $)`,
        `${F}/env-errors.yaml:16:32: warning: receivers::otlp: protocols.grpc.max_recv_msg_size_mib: environment variable "SIZE" is not set; using ""`,
        `${F}/env-errors.yaml:16:32: error: receivers::otlp: protocols.grpc.max_recv_msg_size_mib: expected an integer >= 1, got ""`,
      ]);
    });
  });
});
