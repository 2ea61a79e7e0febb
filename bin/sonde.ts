#!/usr/bin/env node
// The sonde CLI: run, validate, components, doctor. The only place that calls process.exit.
import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultRegistry } from '../components';
import type { Factory } from '../pipeline/component';
import { formatDiagnostic, loadConfig } from '../pipeline/config/load';
import type { Diagnostic, LoadedConfig } from '../pipeline/config/types';
import { errorMessage } from '../pipeline/errors';
import { JsonLogger, type Logger } from '../pipeline/logger';
import { Service } from '../pipeline/service';
import { SelfTelemetry } from '../pipeline/telemetry';

const HELP = `sonde — eBPF observability collector with an OpenTelemetry-Collector-style pipeline

Usage:
  sonde run --config FILE [--config FILE ...]   run the pipelines (files merge in order)
  sonde validate --config FILE [...]            check a config: exit 0 if valid, 1 with errors on stderr
  sonde components [--json]                     list every component type, its signals and stability
  sonde doctor [--json]                         what this kernel and these privileges allow eBPF to do
  sonde --version | --help

Signals: SIGTERM or SIGINT drain the pipelines (bounded by a deadline) and exit.`;

function version(): string {
  for (const p of [path.join(__dirname, '..', '..', 'package.json'), path.join(__dirname, '..', 'package.json')]) {
    try { return (JSON.parse(fs.readFileSync(p, 'utf8')) as { version: string }).version; } catch { /* try the next */ }
  }
  return 'unknown';
}

interface Args { command: string; configs: string[]; json: boolean; help: boolean }

function parseArgs(argv: string[]): Args {
  const args: Args = { command: '', configs: [], json: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config' || a === '-c') {
      const v = argv[++i];
      if (!v) throw new Error(`${a} needs a file`);
      args.configs.push(v);
    } else if (a.startsWith('--config=')) {
      args.configs.push(a.slice('--config='.length));
    } else if (a === '--json') {
      args.json = true;
    } else if (a === '--help' || a === '-h') {
      args.help = true;
    } else if (a === '--version' || a === '-v') {
      args.command = 'version';
    } else if (!args.command && !a.startsWith('-')) {
      args.command = a;
    } else {
      throw new Error(`unknown argument "${a}"`);
    }
  }
  return args;
}

function load(configs: string[]): { config?: LoadedConfig; diagnostics: Diagnostic[] } {
  if (configs.length === 0) throw new Error('no config: pass --config FILE');
  return loadConfig(configs, defaultRegistry(), process.env);
}

function printDiagnostics(diagnostics: Diagnostic[]): void {
  for (const d of diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
}

function validate(configs: string[]): number {
  const { config, diagnostics } = load(configs);
  printDiagnostics(diagnostics);
  if (!config) {
    const n = diagnostics.filter((d) => d.severity === 'error').length;
    process.stderr.write(`${n} error${n === 1 ? '' : 's'}\n`);
    return 1;
  }
  process.stdout.write(`valid: ${configs.join(', ')} (${config.service.pipelines.length} pipelines)\n`);
  return 0;
}

async function run(configs: string[]): Promise<number> {
  const { config, diagnostics } = load(configs);
  printDiagnostics(diagnostics);
  if (!config) return 1;
  const logger: Logger = new JsonLogger(config.service.telemetry.logs.level);
  // grpc-js prints its own lines to stderr; what matters reaches us as errors, so keep its
  // words in our log format, at debug.
  grpc.setLogger({ error: (...args: unknown[]) => logger.debug('grpc-js', { message: args.map(String).join(' ') }) });
  const buildInfo = { command: 'sonde', version: version() };
  const telemetry = new SelfTelemetry(config.service.telemetry, logger, buildInfo);
  const service = new Service({ config, logger, telemetry, buildInfo });
  logger.info('starting', { version: buildInfo.version, configs: configs.join(','), pid: process.pid });

  let stopping: Promise<number> | undefined;
  const stop = (reason: string, failed: boolean): Promise<number> => {
    stopping ??= (async () => {
      logger.info('shutting down', { reason });
      const complete = await service.shutdown();
      logger.info('stopped', { complete });
      return failed || !complete ? 1 : 0;
    })();
    return stopping;
  };
  const signalled = new Promise<number>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.on(sig, () => {
        if (stopping) {
          logger.warn('second signal: exiting without waiting for the drain', { signal: sig });
          process.exit(1);
        }
        void stop(sig, false).then(resolve);
      });
    }
  });

  try {
    await service.start();
  } catch (err) {
    logger.error('failed to start', { error: errorMessage(err) });
    process.stderr.write(`sonde: ${errorMessage(err)}\n`);
    await service.shutdown();
    return 1;
  }
  const fatal = service.fatalError.then((err) => stop(`fatal error in ${err.componentId}: ${err.message}`, true));
  return Promise.race([signalled, fatal]);
}

function signalsOf(f: Factory): string {
  if (f.kind === 'connector') return f.connects.map((c) => `${c.from}->${c.to}: ${c.stability}`).join(', ');
  if (f.kind === 'extension') return `extension: ${f.stability}`;
  return Object.entries(f.signals).map(([s, st]) => `${s}: ${st}`).join(', ');
}

function components(json: boolean): number {
  const registry = defaultRegistry();
  const kinds = ['receiver', 'processor', 'exporter', 'connector', 'extension'] as const;
  if (json) {
    const out = kinds.flatMap((kind) => registry.factories(kind).map((f) => ({
      kind, type: f.type, aliases: [...(f.aliases ?? []), ...(f.deprecatedAliases ?? [])], description: f.description,
      ...(f.kind === 'connector' ? { connects: f.connects } : f.kind === 'extension' ? { stability: f.stability } : { signals: f.signals }),
    })));
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  }
  for (const kind of kinds) {
    process.stdout.write(`${kind}s:\n`);
    for (const f of registry.factories(kind)) {
      const aliases = [...(f.aliases ?? []), ...(f.deprecatedAliases ?? []).map((a) => `${a} (deprecated)`)];
      process.stdout.write(`  ${f.type.padEnd(24)} ${signalsOf(f)}${aliases.length ? `  [aliases: ${aliases.join(', ')}]` : ''}\n`);
      process.stdout.write(`  ${''.padEnd(24)} ${f.description}\n`);
    }
  }
  return 0;
}

async function doctor(json: boolean): Promise<number> {
  // Loaded on demand, so every other command starts without touching the eBPF side.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const features = require('../native/features') as typeof import('../native/features');
  const report = await features.probeFeatures({ tls: true });
  process.stdout.write((json ? features.doctorJson(report) : features.formatDoctor(report)) + '\n');
  return 0;
}

async function main(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`sonde: ${errorMessage(err)}\n\n${HELP}\n`);
    return 2;
  }
  if (args.help || !args.command || args.command === 'help') {
    process.stdout.write(HELP + '\n');
    return args.command || args.help ? 0 : 2;
  }
  try {
    switch (args.command) {
      case 'version': process.stdout.write(`sonde ${version()}\n`); return 0;
      case 'run': return await run(args.configs);
      case 'validate': return validate(args.configs);
      case 'components': return components(args.json);
      case 'doctor': return await doctor(args.json);
      default:
        process.stderr.write(`sonde: unknown command "${args.command}"\n\n${HELP}\n`);
        return 2;
    }
  } catch (err) {
    process.stderr.write(`sonde: ${errorMessage(err)}\n`);
    return 1;
  }
}

// `sonde components | head` closes our stdout early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`sonde: ${errorMessage(err)}\n`);
  process.exit(1);
});
